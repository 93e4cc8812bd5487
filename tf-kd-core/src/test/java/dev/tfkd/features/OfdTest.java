package dev.tfkd.features;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.BatchNormParameters;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * OFD against its float64 reference ({@link FeatureReference#ofdStage}, margins by numeric integration): value and
 * gradient (central finite differences) with the deepest stages paired, a teacher map twice the student's size
 * pooled, and margins in both branches; the graph's margin against the integrated truncated normal; refusals.
 */
class OfdTest {
  /** Student: two stages; teacher: three, its stage 2 twice the student's stage 1 in size. */
  private static final Map<String, long[]> STUDENT = new LinkedHashMap<>();
  private static final Map<String, long[]> TEACHER = new LinkedHashMap<>();

  static {
    STUDENT.put("stage1", new long[] {2, 4, 4, 3});
    STUDENT.put("stage1_pre", new long[] {2, 4, 4, 3});
    STUDENT.put("stage2", new long[] {2, 2, 2, 4});
    STUDENT.put("stage2_pre", new long[] {2, 2, 2, 4});
    TEACHER.put("stage1_pre", new long[] {2, 8, 8, 3});
    TEACHER.put("stage2_pre", new long[] {2, 8, 8, 5});
    TEACHER.put("stage3_pre", new long[] {2, 2, 2, 6});
  }

  /** Teacher BN parameters: a mix of ordinary margins and of channels where P(x < 0) <= 0.001 (margin -3 s). */
  private static Map<String, double[][]> norms() {
    Map<String, double[][]> n = new LinkedHashMap<>();
    n.put("stage1_pre", new double[][] {{1, 1, 1}, {0, 0, 0}});
    n.put("stage2_pre", new double[][] {{0.8, -1.3, 0.5, 1.1, 0.3}, {0.2, -0.4, 2.5, 0, 0.6}});
    n.put("stage3_pre", new double[][] {{1.2, 0.7, -0.9, 0.4, 2, 0.25}, {-1, 0.3, 0.1, 1.6, -0.2, 0.9}});
    return n;
  }

  private static double[] margins(double[][] gb) {
    double[] m = new double[gb[0].length];
    for (int i = 0; i < m.length; i++) {
      m[i] = FeatureReference.ofdMargin((float) gb[0][i], (float) gb[1][i]);
    }
    return m;
  }

  /** The integrated margins, computed once. */
  private static final double[] DEEP_MARGINS = margins(norms().get("stage3_pre"));
  private static final double[] SHALLOW_MARGINS = margins(norms().get("stage2_pre"));

  private static double reference(
      Map<String, double[]> s, Map<String, double[]> t, Map<String, double[]> a, float decay) {
    double deep =
        FeatureReference.ofdStage(s.get("stage2_pre"), 2, 2, 2, 4, t.get("stage3_pre"), 1, 6, DEEP_MARGINS,
            a.get("a_connector_stage2_pre_conv_kernel"), a.get("a_connector_stage2_pre_bn_gamma"),
            a.get("a_connector_stage2_pre_bn_beta"));
    double shallow =
        FeatureReference.ofdStage(s.get("stage1_pre"), 2, 4, 4, 3, t.get("stage2_pre"), 2, 5, SHALLOW_MARGINS,
            a.get("a_connector_stage1_pre_conv_kernel"), a.get("a_connector_stage1_pre_bn_gamma"),
            a.get("a_connector_stage1_pre_bn_beta"));
    return deep + shallow / decay;
  }

  private static Map<String, double[]> draw(Map<String, long[]> shapes, SplittableRandom rng) {
    Map<String, double[]> m = new LinkedHashMap<>();
    shapes.forEach((n, sh) -> {
      long size = 1;
      for (long d : sh) {
        size *= d;
      }
      m.put(n, FeatureHarness.random(rng, (int) size, 1.5));
    });
    return m;
  }

  @Test
  void valueAndGradientMatchTheFloat64Reference() {
    for (float decay : new float[] {2, 3}) {
      SplittableRandom rng = new SplittableRandom(11);
      Set<String> read = Set.of("stage1_pre", "stage2_pre");
      try (FeatureHarness h = new FeatureHarness(new Ofd(decay), STUDENT, TEACHER, read, norms())) {
        for (int trial = 0; trial < 3; trial++) {
          Map<String, double[]> s = draw(STUDENT, rng);
          Map<String, double[]> t = draw(TEACHER, rng);
          FeatureHarness.Out out = h.run(s, t);
          double expected = reference(s, t, h.adapterWeights, decay);
          assertTrue(expected > 0, "random points give a positive loss, got " + expected);
          assertAllClose(out.value(), expected, 2e-5, 1e-7, "ofd value, decay " + decay + ", trial " + trial);
          for (String point : read) {
            double[] x = s.get(point);
            double[] fd = new double[x.length];
            double max = 0;
            for (int i = 0; i < x.length; i++) {
              double keep = x[i];
              double step = 1e-6 * Math.max(1, Math.abs(keep));
              x[i] = keep + step;
              double up = reference(s, t, h.adapterWeights, decay);
              x[i] = keep - step;
              double down = reference(s, t, h.adapterWeights, decay);
              x[i] = keep;
              fd[i] = (up - down) / (2 * step);
              max = Math.max(max, Math.abs(fd[i]));
            }
            assertTrue(max > 0, "ofd depends on " + point);
            assertAllClose(out.gradient().get(point), fd, 2e-3, 2e-4 * max + 1e-9);
          }
        }
      }
    }
  }

  @Test
  void marginMatchesTheIntegratedTruncatedNormal() {
    double[] gamma = {1, 1, 1, -2, 0.5, 0.1, 3, 1, 1, 0.7, 1e-3, 2};
    double[] beta = {0, -1, 1, 0.5, 1.4, -0.3, -4, 2.5, 3.5, 0.02, -1e-3, 6.4};
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> m =
          Ofd.margin(tf, new BatchNormParameters(FeatureHarness.constant(tf, gamma), FeatureHarness.constant(tf, beta)));
      try (Session session = new Session(g); Result r = session.runner().fetch(m).run()) {
        TFloat32 v = (TFloat32) r.get(0);
        int threshold = 0;
        for (int i = 0; i < gamma.length; i++) {
          double expected = FeatureReference.ofdMargin((float) gamma[i], (float) beta[i]);
          double got = v.getFloat(i);
          assertAllClose(got, expected, 1e-5, 1e-6, "margin for gamma " + gamma[i] + ", beta " + beta[i]);
          assertTrue(got <= 0, "a margin is never positive: " + got);
          threshold += got == (float) (-3 * Math.abs(gamma[i])) ? 1 : 0;
        }
        // beta/s = 3.5 and 3.2 have P(x < 0) below 0.001 (2.8 and 2.5 above): both branches are exercised.
        assertEquals(2, threshold);
      }
    }
  }

  @Test
  void refusedWithoutTheTeachersBatchNormOrPreReluPoints() {
    Map<String, long[]> teacher = new LinkedHashMap<>(TEACHER);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new Ofd(2), STUDENT, teacher).close());
    assertTrue(e.getMessage().contains("batch normalisation") && e.getMessage().contains("stage2_pre"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
    Map<String, long[]> post = Map.of("stage1", new long[] {2, 4, 4, 3});
    e = assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new Ofd(2), STUDENT, post).close());
    assertTrue(e.getMessage().contains("stageN_pre"), e.getMessage());
    Map<String, long[]> odd = new LinkedHashMap<>(TEACHER);
    odd.put("stage2_pre", new long[] {2, 6, 6, 5});
    e = assertThrows(IllegalArgumentException.class,
        () -> new FeatureHarness(new Ofd(2), STUDENT, odd, Set.of("stage1_pre"), norms()).close());
    assertTrue(e.getMessage().contains("4x4") && e.getMessage().contains("6x6"), e.getMessage());
  }

  @Test
  void specRoundTripsAndBoundsAreChecked() {
    assertEquals(new Ofd(2), FeatureLosses.parse("ofd"));
    assertEquals(new Ofd(3), FeatureLosses.parse(new Ofd(3).spec()));
    assertEquals(1e-3f, FeatureLosses.entry("ofd").defaultWeight());
    assertEquals(1e-3f, LossSpec.parse("ce:1, ofd").terms().get(1).weight());
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("ofd(decay=0.5)"));
  }
}
