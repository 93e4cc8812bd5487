package dev.tfkd.features;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Every feature loss against its float64 reference ({@link FeatureReference}) on random tensors: the graph's value,
 * and the graph's gradient with respect to every student point against central finite differences of the
 * reference. Identical student and teacher points give 0 where the method compares like with like.
 */
class FeatureLossesTest {

  /** One case: the loss, the shapes of both sides, and the reference as a function of the student's points. */
  record Case(
      String name,
      FeatureLoss loss,
      Map<String, long[]> student,
      Map<String, long[]> teacher,
      Reference reference,
      java.util.Set<String> read) {
    Case(String name, FeatureLoss loss, Map<String, long[]> student, Map<String, long[]> teacher, Reference reference) {
      this(name, loss, student, teacher, reference, student.keySet());
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** The reference value for given student and teacher points and the harness's adapter weights. */
  @FunctionalInterface
  interface Reference {
    double value(Map<String, double[]> s, Map<String, double[]> t, Map<String, double[]> adapters);
  }

  private static Map<String, long[]> shapes(Object... nameAndShape) {
    Map<String, long[]> m = new LinkedHashMap<>();
    for (int i = 0; i < nameAndShape.length; i += 2) {
      m.put((String) nameAndShape[i], (long[]) nameAndShape[i + 1]);
    }
    return m;
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("at", new At(),
            shapes("stage1", new long[] {3, 4, 4, 3}, "stage2", new long[] {3, 2, 2, 5}),
            shapes("stage1", new long[] {3, 4, 4, 6}, "stage2", new long[] {3, 2, 2, 4}),
            (s, t, a) -> FeatureReference.atStage(s.get("stage1"), 3, t.get("stage1"), 6, 3, 16)
                + FeatureReference.atStage(s.get("stage2"), 5, t.get("stage2"), 4, 3, 4)),
        new Case("sp", new Sp(),
            shapes("stage1", new long[] {4, 2, 2, 3}, "stage2", new long[] {4, 2, 2, 4}),
            shapes("stage1", new long[] {4, 2, 2, 5}, "stage2", new long[] {4, 1, 1, 6}),
            (s, t, a) -> FeatureReference.sp(s.get("stage2"), 16, t.get("stage2"), 6, 4), java.util.Set.of("stage2")),
        new Case("pkt", new Pkt(),
            shapes("pooled", new long[] {4, 5}), shapes("pooled", new long[] {4, 7}),
            (s, t, a) -> FeatureReference.pkt(s.get("pooled"), 5, t.get("pooled"), 7, 4)),
        new Case("rkd", new Rkd(25, 50),
            shapes("pooled", new long[] {4, 4}), shapes("pooled", new long[] {4, 6}),
            (s, t, a) -> FeatureReference.rkd(s.get("pooled"), 4, t.get("pooled"), 6, 4, 25, 50)),
        new Case("rkd(distance=3, angle=0.5)", new Rkd(3, 0.5f),
            shapes("pooled", new long[] {5, 3}), shapes("pooled", new long[] {5, 3}),
            (s, t, a) -> FeatureReference.rkd(s.get("pooled"), 3, t.get("pooled"), 3, 5, 3, 0.5)),
        new Case("dist", new Dist(1, 1, 4),
            shapes("logits", new long[] {4, 5}), shapes("logits", new long[] {4, 5}),
            (s, t, a) -> FeatureReference.dist(s.get("logits"), t.get("logits"), 4, 5, 1, 1, 4)),
        new Case("dist(beta=2, gamma=0.5, T=1)", new Dist(2, 0.5f, 1),
            shapes("logits", new long[] {3, 6}), shapes("logits", new long[] {3, 6}),
            (s, t, a) -> FeatureReference.dist(s.get("logits"), t.get("logits"), 3, 6, 2, 0.5, 1)),
        new Case("fitnet(stage=1)", new FitNet(1),
            shapes("stage1", new long[] {2, 3, 3, 2}), shapes("stage1", new long[] {2, 3, 3, 3}),
            (s, t, a) -> FeatureReference.fitnet(s.get("stage1"), 2, 3, 3, 2, t.get("stage1"), 3,
                a.get("a_regressor_conv_kernel"), a.get("a_regressor_conv_bias"), a.get("a_regressor_bn_gamma"),
                a.get("a_regressor_bn_beta"))));
  }

  private static Map<String, double[]> draw(Map<String, long[]> shapes, SplittableRandom rng, double scale) {
    Map<String, double[]> m = new LinkedHashMap<>();
    shapes.forEach((n, s) -> {
      long size = 1;
      for (long d : s) {
        size *= d;
      }
      m.put(n, FeatureHarness.random(rng, (int) size, scale));
    });
    return m;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void valueAndGradientMatchTheFloat64Reference(Case c) {
    SplittableRandom rng = new SplittableRandom(c.name().hashCode());
    try (FeatureHarness h = new FeatureHarness(c.loss(), c.student(), c.teacher(), c.read())) {
      for (int trial = 0; trial < 3; trial++) {
        double scale = c.name().startsWith("dist") ? 4 : 1.5;
        Map<String, double[]> s = draw(c.student(), rng, scale);
        Map<String, double[]> t = draw(c.teacher(), rng, scale);
        FeatureHarness.Out out = h.run(s, t);
        double expected = c.reference().value(s, t, h.adapterWeights);
        assertAllClose(out.value(), expected, 2e-5, 1e-7, c + " value, trial " + trial);
        assertTrue(expected > 0, c + ": random points should give a positive loss, got " + expected);
        for (String point : c.read()) {
          double[] x = s.get(point);
          double[] fd = new double[x.length];
          for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            double step = 1e-6 * Math.max(1, Math.abs(keep));
            x[i] = keep + step;
            double up = c.reference().value(s, t, h.adapterWeights);
            x[i] = keep - step;
            double down = c.reference().value(s, t, h.adapterWeights);
            x[i] = keep;
            fd[i] = (up - down) / (2 * step);
          }
          double max = 0;
          for (double g : fd) {
            max = Math.max(max, Math.abs(g));
          }
          assertTrue(max > 0, c + ": the loss should depend on " + point);
          assertAllClose(out.gradient().get(point), fd, 2e-3, 2e-4 * max + 1e-9);
        }
      }
    }
  }

  /**
   * Methods that compare like with like are 0 when the student's points equal the teacher's (DIST up to its 1e-8
   * in Pearson's denominator, as its reference).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void identicalPointsGiveZero(Case c) {
    if (c.name().startsWith("fitnet")) {
      return; // the regressor's output is not the student's point: no like-with-like comparison
    }
    try (FeatureHarness h = new FeatureHarness(c.loss(), c.student(), c.student(), c.read())) {
      Map<String, double[]> s = draw(c.student(), new SplittableRandom(7), 2);
      double v = h.run(s, s).value();
      // DIST's Pearson correlation divides by (norms + 1e-8), so identical rows correlate slightly below 1.
      assertAllClose(v, 0, 0, c.name().startsWith("dist") ? 1e-3 : 2e-6, c.name());
    }
  }

  private static boolean sameShapes(Map<String, long[]> a, Map<String, long[]> b) {
    return a.keySet().equals(b.keySet()) && a.keySet().stream().allMatch(k -> java.util.Arrays.equals(a.get(k), b.get(k)));
  }

  @Test
  void specsParseBackToEqualLosses() {
    for (FeatureLosses.Entry e : FeatureLosses.entries()) {
      FeatureLoss f = FeatureLosses.parse(e.name());
      assertEquals(f, FeatureLosses.parse(f.spec()), e.name());
    }
    assertEquals(new Rkd(10, 20), FeatureLosses.parse("rkd(distance=10, angle=20)"));
    assertEquals(new FitNet(3), FeatureLosses.parse("fitnet(stage=3)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("fitnet(stage=0)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("at(beta=3)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("rkd(distance=1, distance=2)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("dist(T=0)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("nope"));
  }

  @Test
  void mismatchedPointsAreRefusedNamingBothShapes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new At(),
            shapes("stage1", new long[] {2, 4, 4, 3}), shapes("stage1", new long[] {2, 2, 2, 3})).close());
    assertTrue(e.getMessage().contains("[4, 4, 3]") && e.getMessage().contains("[2, 2, 3]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new Pkt(),
        shapes("stage1", new long[] {2, 4}), shapes("pooled", new long[] {2, 4})).close());
    assertTrue(e.getMessage().contains("pooled"), e.getMessage());
  }
}
