package dev.tfkd.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CSWT ranks its per-example cosines; rows that agree exactly (student equal to teacher) must share one temperature,
 * the midpoint of [Tmin, Tmax], however float rounding treated their cosines. Values against the float64 {@link
 * Reference}, which ranks with the same tie tolerance.
 */
class CswtTiesTest {

  /** {@code b} rows of random logits, each student row equal to its teacher row when {@code tied[i]}. */
  private static DivergencesTest.Case withTies(long seed, int b, int k, boolean[] tied) {
    DivergencesTest.Case c = DivergencesTest.randomCase(seed, b, k, 3, 4);
    double[][] s = c.s().clone();
    for (int i = 0; i < b; i++) {
      if (tied[i]) {
        s[i] = c.t()[i].clone();
      }
    }
    return new DivergencesTest.Case(s, c.t(), c.y(), c.epoch());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cswt:kl", "cswt:sinkhorn", "cswt(Tmin=1, Tmax=8):dkd(warmup=0)"})
  void everyRowEqualToItsTeacherGetsTheMidpointTemperature(String spec) {
    Divergence d = Divergences.parse(spec);
    Cswt cswt = (Cswt) d;
    boolean[] all = new boolean[8];
    java.util.Arrays.fill(all, true);
    DivergencesTest.Case c = withTies(21, 8, 10, all);
    double mid = (cswt.minTemperature() + cswt.maxTemperature()) / 2;
    for (double t : Reference.cswtTemperatures(cswt, c.s(), c.t())) {
      assertEquals(mid, t, 0, "reference temperature");
    }
    try (GraphHarness h = new GraphHarness(d, true)) {
      double[] ref = Reference.perExample(d, c.s(), c.t(), c.y(), c.epoch());
      double[] tf = h.run(c.s(), c.t(), c.y(), c.epoch(), ones(8)).values();
      DivergencesTest.assertClose(spec + " all tied", tf, ref, 1e-5, 1e-6, DivergencesTest.valueScale(d, ref));
    }
    try (org.tensorflow.Graph g = new org.tensorflow.Graph();
        org.tensorflow.Session s = new org.tensorflow.Session(g)) {
      org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(g);
      var temps = cswt.temperatures(tf, tf.constant(toFloat(c.s())), tf.constant(toFloat(c.t())));
      try (org.tensorflow.Result r = s.runner().fetch(temps).run()) {
        org.tensorflow.types.TFloat32 v = (org.tensorflow.types.TFloat32) r.get(0);
        for (int i = 0; i < 8; i++) {
          assertEquals((float) mid, v.getFloat(i), 0f, "graph temperature of row " + i);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"cswt:kl", "cswt:sinkhorn"})
  void someTiedRowsShareTheirRankAndMatchTheReference(String spec) {
    Divergence d = Divergences.parse(spec);
    SplittableRandom r = new SplittableRandom(5);
    boolean[] tied = new boolean[12];
    for (int i = 0; i < tied.length; i++) {
      tied[i] = r.nextBoolean() || i < 3;
    }
    DivergencesTest.Case c = withTies(22, 12, 7, tied);
    double[] temps = Reference.cswtTemperatures((Cswt) d, c.s(), c.t());
    for (int i = 1; i < tied.length; i++) {
      if (tied[i]) {
        // Tied rows have the highest cosine (1): they share the lowest temperatures' mean rank.
        assertEquals(temps[0], temps[i], 0, "row " + i);
      }
    }
    try (GraphHarness h = new GraphHarness(d, true)) {
      double[] ref = Reference.perExample(d, c.s(), c.t(), c.y(), c.epoch());
      double[] tf = h.run(c.s(), c.t(), c.y(), c.epoch(), ones(12)).values();
      DivergencesTest.assertClose(spec + " some tied", tf, ref, 1e-5, 1e-6, DivergencesTest.valueScale(d, ref));
    }
  }

  private static double[] ones(int n) {
    double[] w = new double[n];
    java.util.Arrays.fill(w, 1);
    return w;
  }

  private static float[][] toFloat(double[][] x) {
    float[][] f = new float[x.length][x[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int c = 0; c < x[i].length; c++) {
        f[i][c] = (float) x[i][c];
      }
    }
    return f;
  }
}
