package dev.tfkd.features;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.features.ReviewVidReference.M;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.testing.Assertions;
import dev.tfkd.training.FeatureInputs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * ReviewKD and VID against their float64 references ({@link ReviewVidReference}): values, gradients with respect to
 * every student point against central finite differences, all-zero and near-zero points, PyTorch's adaptive pooling
 * bins on sizes that do not divide evenly, ReviewKD's warm-up per epoch, VID's starting variance, and refusals of
 * points that do not fit together.
 */
class ReviewKdVidTest {

  /** One case: the loss, both sides' shapes, and the reference from the student's and teacher's points. */
  record Case(String name, FeatureLoss loss, Map<String, long[]> student, Map<String, long[]> teacher,
      FeatureLossesTest.Reference reference) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Map<String, long[]> shapes(Object... nameAndShape) {
    Map<String, long[]> m = new LinkedHashMap<>();
    for (int i = 0; i < nameAndShape.length; i += 2) {
      m.put((String) nameAndShape[i], (long[]) nameAndShape[i + 1]);
    }
    return m;
  }

  private static M map(double[] v, long[] shape) {
    return shape.length == 2
        ? new M(v, (int) shape[0], 1, 1, (int) shape[1])
        : new M(v, (int) shape[0], (int) shape[1], (int) shape[2], (int) shape[3]);
  }

  /** ReviewKD's reference for student stages + pooled and the teacher's {@code _pre} points (or the stages). */
  private static FeatureLossesTest.Reference review(Map<String, long[]> ss, Map<String, long[]> ts, int stages, int mid) {
    return (s, t, a) -> {
      List<M> sl = new java.util.ArrayList<>();
      List<M> tl = new java.util.ArrayList<>();
      for (int n = 1; n <= stages; n++) {
        String tn = ts.containsKey("stage" + n + "_pre") ? "stage" + n + "_pre" : "stage" + n;
        sl.add(map(s.get("stage" + n), ss.get("stage" + n)));
        tl.add(map(t.get(tn), ts.get(tn)));
      }
      sl.add(map(s.get("pooled"), ss.get("pooled")));
      tl.add(map(t.get("pooled"), ts.get("pooled")));
      return ReviewVidReference.reviewkd(sl, tl, mid, a, 1);
    };
  }

  private static FeatureLossesTest.Reference vid(Map<String, long[]> ss, Map<String, long[]> ts, int stages) {
    return (s, t, a) -> {
      double sum = 0;
      for (int n = 1; n <= stages; n++) {
        String p = "stage" + n;
        sum += ReviewVidReference.vidStage(map(s.get(p), ss.get(p)), map(t.get(p), ts.get(p)), p, a);
      }
      return sum;
    };
  }

  static Stream<Case> cases() {
    // 7x7 and 4x4 levels: pooling 7 -> 4, 2, 1 and 4 -> 2, 1 with uneven bins, nearest 4 -> 7 and 1 -> 4.
    Map<String, long[]> rs = shapes("stage1", new long[] {3, 7, 7, 2}, "stage2", new long[] {3, 4, 4, 3},
        "pooled", new long[] {3, 4});
    Map<String, long[]> rt = shapes("stage1", new long[] {3, 7, 7, 3}, "stage1_pre", new long[] {3, 7, 7, 3},
        "stage2_pre", new long[] {3, 4, 4, 2}, "stage2", new long[] {3, 4, 4, 2}, "pooled", new long[] {3, 5});
    // Teacher without _pre points (stages that end linearly): the stages themselves.
    Map<String, long[]> rt2 = shapes("stage1", new long[] {3, 4, 4, 2}, "pooled", new long[] {3, 3});
    Map<String, long[]> rs2 = shapes("stage1", new long[] {3, 4, 4, 3}, "pooled", new long[] {3, 6});
    // VID: the student's 4x4 pooled to the teacher's 2x2; the teacher's 3x3 pooled (bins [0,2), [1,3)) to 2x2.
    Map<String, long[]> vs = shapes("stage1", new long[] {2, 4, 4, 3}, "stage2", new long[] {2, 2, 2, 3});
    Map<String, long[]> vt = shapes("stage1", new long[] {2, 2, 2, 4}, "stage2", new long[] {2, 3, 3, 2});
    Map<String, long[]> vs2 = shapes("stage1", new long[] {3, 5, 5, 2});
    Map<String, long[]> vt2 = shapes("stage1", new long[] {3, 5, 5, 3});
    return Stream.of(
        new Case("reviewkd(warmup=0)", new ReviewKd(0, 512), rs, rt, review(rs, rt, 2, 4)),
        new Case("reviewkd(warmup=0, mid=2)", new ReviewKd(0, 2), rs, rt, review(rs, rt, 2, 2)),
        new Case("reviewkd without _pre points", new ReviewKd(0, 512), rs2, rt2, review(rs2, rt2, 1, 6)),
        new Case("vid", new Vid(5), vs, vt, vid(vs, vt, 2)),
        new Case("vid, equal sizes", new Vid(5), vs2, vt2, vid(vs2, vt2, 1)));
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
    try (FeatureHarness h = new FeatureHarness(c.loss(), c.student(), c.teacher())) {
      for (int trial = 0; trial < 2; trial++) {
        Map<String, double[]> s = draw(c.student(), rng, 1.5);
        Map<String, double[]> t = draw(c.teacher(), rng, 1.5);
        FeatureHarness.Out out = h.run(s, t);
        double expected = c.reference().value(s, t, h.adapterWeights);
        assertAllClose(out.value(), expected, 2e-5, 1e-6, c + " value, trial " + trial);
        assertTrue(Math.abs(expected) > 1e-3, c + ": random points should give a loss away from 0, got " + expected);
        for (String point : c.student().keySet()) {
          double[] fd = finiteDifferences(c, s, t, h.adapterWeights, point);
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

  private static double[] finiteDifferences(
      Case c, Map<String, double[]> s, Map<String, double[]> t, Map<String, double[]> adapters, String point) {
    double[] x = s.get(point);
    double[] fd = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double keep = x[i];
      double step = 1e-6 * Math.max(1, Math.abs(keep));
      x[i] = keep + step;
      double up = c.reference().value(s, t, adapters);
      x[i] = keep - step;
      double down = c.reference().value(s, t, adapters);
      x[i] = keep;
      fd[i] = (up - down) / (2 * step);
    }
    return fd;
  }

  /**
   * All-zero points (batch normalisation of constant channels, VID's regressor at 0) and points of magnitude 1e-20
   * give finite values equal to the reference's and finite gradients.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void zeroAndNearZeroPointsGiveFiniteValuesAndGradients(Case c) {
    try (FeatureHarness h = new FeatureHarness(c.loss(), c.student(), c.teacher())) {
      for (double scale : new double[] {0, 1e-20}) {
        Map<String, double[]> s = draw(c.student(), new SplittableRandom(3), scale);
        Map<String, double[]> t = draw(c.teacher(), new SplittableRandom(4), scale);
        FeatureHarness.Out out = h.run(s, t);
        double expected = c.reference().value(s, t, h.adapterWeights);
        assertTrue(Double.isFinite(out.value()), c + " at scale " + scale + ": " + out.value());
        assertAllClose(out.value(), expected, 2e-5, 1e-6, c + " value at scale " + scale);
        out.gradient().forEach((p, g) -> {
          for (double v : g) {
            assertTrue(Double.isFinite(v), c + ": gradient for " + p + " at scale " + scale + " is " + v);
          }
        });
      }
    }
  }

  /** VID with the teacher's map equal to the regressor's prediction of 0 (all points 0): 0.5 log var per stage. */
  @Test
  void vidOfZeroPointsIsHalfTheLogVariance() {
    Map<String, long[]> s = shapes("stage1", new long[] {2, 2, 2, 3});
    Map<String, long[]> t = shapes("stage1", new long[] {2, 2, 2, 2});
    try (FeatureHarness h = new FeatureHarness(new Vid(5), s, t)) {
      double v = h.run(Map.of("stage1", new double[24]), Map.of("stage1", new double[16])).value();
      double[] alpha = h.adapterWeights.get("a_stage1_alpha");
      double expected = 0;
      for (double a : alpha) {
        expected += 0.5 * Math.log(Math.log1p(Math.exp(a)) + 1e-5) / alpha.length;
      }
      assertAllClose(v, expected, 1e-5, 1e-7, "vid of zeros");
    }
  }

  /** The warm-up multiplies the loss by min(1, (epoch + 1) / warmup), epoch from 0. */
  @Test
  void reviewKdWarmsUpLinearlyOverItsEpochs() {
    Map<String, long[]> s = shapes("stage1", new long[] {3, 4, 4, 2}, "pooled", new long[] {3, 4});
    Map<String, long[]> t = shapes("stage1_pre", new long[] {3, 4, 4, 3}, "pooled", new long[] {3, 3});
    Map<String, double[]> sv = draw(s, new SplittableRandom(5), 1);
    Map<String, double[]> tv = draw(t, new SplittableRandom(6), 1);
    double full;
    try (FeatureHarness h = new FeatureHarness(new ReviewKd(0, 512), s, t)) {
      h.epochValue = 0;
      full = h.run(sv, tv).value();
    }
    assertTrue(full > 0);
    try (FeatureHarness h = new FeatureHarness(new ReviewKd(4, 512), s, t)) {
      double[] expected = {0.25, 0.5, 0.75, 1, 1, 1};
      for (int epoch = 0; epoch < expected.length; epoch++) {
        h.epochValue = epoch;
        assertAllClose(h.run(sv, tv).value(), expected[epoch] * full, 1e-6, 0, "epoch " + epoch);
      }
      // mdistiller's default: 20 epochs, the first weighs 1/20.
    }
    try (FeatureHarness h = new FeatureHarness(FeatureLosses.parse("reviewkd"), s, t)) {
      h.epochValue = 0;
      assertAllClose(h.run(sv, tv).value(), full / 20, 1e-6, 0, "reviewkd epoch 0");
      h.epochValue = 19;
      assertAllClose(h.run(sv, tv).value(), full, 1e-6, 0, "reviewkd epoch 19");
    }
  }

  @Test
  void reviewKdWithAWarmUpNeedsTheEpoch() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Map<String, Operand<TFloat32>> s = Map.of(
          "stage1", tf.placeholder(TFloat32.class, Placeholder.shape(org.tensorflow.ndarray.Shape.of(2, 2, 2, 2))),
          "pooled", tf.placeholder(TFloat32.class, Placeholder.shape(org.tensorflow.ndarray.Shape.of(2, 2))));
      FeatureInputs in = new FeatureInputs(s, s, new TrainingVariables(1));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> new ReviewKd(20, 512).loss(tf, in, "x_"));
      assertTrue(e.getMessage().contains("epoch"), e.getMessage());
      new ReviewKd(0, 512).loss(tf, in, "y_");
    }
  }

  /** PyTorch's adaptive_avg_pool2d and nearest interpolation on sizes that do not divide evenly, in the graph. */
  @Test
  void adaptivePoolingAndNearestUpsamplingUsePyTorchsBins() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      // One row 0..6 (7 wide, 1 tall, 1 channel): PyTorch's adaptive_avg_pool2d to 1x4 gives 0.5, 2, 4, 5.5.
      float[] row = {0, 1, 2, 3, 4, 5, 6};
      Operand<TFloat32> x = tf.reshape(tf.constant(row), tf.constant(new long[] {1, 1, 7, 1}));
      Operand<TFloat32> pooled = FeatureOps.adaptiveAvgPool(tf, x, 1, 4);
      Operand<TFloat32> up = FeatureOps.nearest(tf, tf.reshape(tf.constant(new float[] {0, 1, 2}), tf.constant(new long[] {1, 1, 3, 1})), 1, 7);
      // A random 5x7x2 map pooled to 3x4 and upsampled to 8x9, against the reference.
      double[] v = FeatureHarness.random(new SplittableRandom(9), 2 * 5 * 7 * 2, 1);
      float[] f = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        f[i] = (float) v[i];
      }
      Operand<TFloat32> m = tf.reshape(tf.constant(f), tf.constant(new long[] {2, 5, 7, 2}));
      Operand<TFloat32> p34 = FeatureOps.adaptiveAvgPool(tf, m, 3, 4);
      Operand<TFloat32> n89 = FeatureOps.nearest(tf, m, 8, 9);
      try (Session session = new Session(g);
          Result r = session.runner().fetch(pooled).fetch(up).fetch(p34).fetch(n89).run()) {
        assertAllClose(floats((TFloat32) r.get(0)), new double[] {0.5, 2, 4, 5.5}, new Assertions.Tolerance(1e-7, 0), "1x7 -> 1x4");
        // F.interpolate(nearest) of [0, 1, 2] to 7: index floor(i * 3 / 7) = 0 0 0 1 1 2 2.
        assertAllClose(floats((TFloat32) r.get(1)), new double[] {0, 0, 0, 1, 1, 2, 2}, Assertions.EXACT, "1x3 -> 1x7");
        M in = new M(v, 2, 5, 7, 2);
        assertAllClose(floats((TFloat32) r.get(2)), ReviewVidReference.adaptivePool(in, 3, 4).v(), new Assertions.Tolerance(1e-6, 1e-7), "5x7 -> 3x4");
        assertAllClose(floats((TFloat32) r.get(3)), ReviewVidReference.nearest(in, 8, 9).v(), Assertions.EXACT, "5x7 -> 8x9");
      }
    }
  }

  private static double[] floats(TFloat32 t) {
    float[] f = new float[(int) t.shape().size()];
    t.asRawTensor().data().asFloats().read(f);
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** VID's per-channel variance starts at the spec's value in a training graph: softplus(alpha) + 1e-5 = 5. */
  @Test
  void vidVarianceStartsAtFive() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Map<String, Operand<TFloat32>> s = Map.of(
          "stage1", tf.placeholder(TFloat32.class, Placeholder.shape(org.tensorflow.ndarray.Shape.of(-1, 2, 2, 3))));
      Map<String, Operand<TFloat32>> t = Map.of(
          "stage1", tf.placeholder(TFloat32.class, Placeholder.shape(org.tensorflow.ndarray.Shape.of(-1, 2, 2, 4))));
      TrainingVariables vars = new TrainingVariables(7);
      FeatureLosses.parse("vid").loss(tf, new FeatureInputs(s, t, vars), "x_");
      assertEquals(4, vars.trainable().size(), "three kernels and alpha");
      try (Session session = new Session(g);
          Result r = session.runner().fetch("x_stage1_alpha").run()) {
        double[] alpha = floats((TFloat32) r.get(0));
        assertEquals(4, alpha.length);
        for (double a : alpha) {
          assertAllClose(Math.log1p(Math.exp(a)) + 1e-5, 5, 1e-6, 0, "starting variance");
        }
      }
    }
  }

  @Test
  void mismatchedPointsAreRefusedNamingBothShapes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new ReviewKd(0, 512),
        shapes("stage1", new long[] {2, 4, 4, 3}, "pooled", new long[] {2, 3}),
        shapes("stage1_pre", new long[] {2, 2, 2, 5}, "pooled", new long[] {2, 3})).close());
    assertTrue(e.getMessage().contains("[4, 4, 3]") && e.getMessage().contains("[2, 2, 5]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new ReviewKd(0, 512),
        shapes("stage1", new long[] {2, 4, 4, 3}), shapes("stage1", new long[] {2, 4, 4, 3})).close());
    assertTrue(e.getMessage().contains("pooled"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new Vid(5),
        shapes("stage1", new long[] {2, 4, 2, 3}), shapes("stage1", new long[] {2, 2, 4, 3})).close());
    assertTrue(e.getMessage().contains("[4, 2, 3]") && e.getMessage().contains("[2, 4, 3]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new FeatureHarness(new Vid(5),
        shapes("stage1", new long[] {2, 4, 4, 3}, "stage2", new long[] {2, 2, 2, 3}),
        shapes("stage1", new long[] {2, 4, 4, 3})).close());
    assertTrue(e.getMessage().contains("stage2"), e.getMessage());
  }

  @Test
  void specsParseAndAreBounded() {
    assertEquals(new ReviewKd(20, 512), FeatureLosses.parse("reviewkd"));
    assertEquals("reviewkd(warmup=20, mid=512)", FeatureLosses.parse("reviewkd").spec());
    assertEquals(new ReviewKd(5, 64), FeatureLosses.parse("reviewkd(warmup=5, mid=64)"));
    assertEquals(new Vid(5), FeatureLosses.parse("vid"));
    assertEquals("vid(variance=5)", FeatureLosses.parse("vid").spec());
    assertEquals(new Vid(2.5f), FeatureLosses.parse(new Vid(2.5f).spec()));
    assertEquals(5f, FeatureLosses.entry("reviewkd").defaultWeight());
    assertEquals(1f, FeatureLosses.entry("vid").defaultWeight());
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("reviewkd(warmup=1.5)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("reviewkd(mid=0)"));
    assertThrows(IllegalArgumentException.class, () -> FeatureLosses.parse("vid(variance=0)"));
    List<String> names = FeatureLosses.entries().stream().map(FeatureLosses.Entry::name).toList();
    assertTrue(names.containsAll(Set.of("reviewkd", "vid")), names.toString());
    assertEquals(5f, LossSpec.parse("ce:1, reviewkd").terms().get(1).weight());
  }
}
