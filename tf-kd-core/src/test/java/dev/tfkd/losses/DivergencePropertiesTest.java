package dev.tfkd.losses;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static dev.tfkd.losses.DivergencesTest.ones;
import static dev.tfkd.losses.DivergencesTest.randomCase;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.losses.DivergencesTest.Case;
import dev.tfkd.testing.Assertions;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Mathematical properties of every divergence in the graph, and the registry's handling of bad specs. */
class DivergencePropertiesTest {

  static java.util.stream.Stream<String> specs() {
    return DivergencesTest.specs();
  }

  /** Divergences whose minimum over the student is not at student = teacher, or not exactly zero there. */
  private static final Set<String> NOT_ZERO_AT_EQUALITY = Set.of("nkd", "sinkhorn");

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void zeroWhenStudentEqualsTeacherAndNonNegativeOtherwise(String spec) {
    Divergence d = Divergences.parse(spec);
    String base = d instanceof Cswt c ? c.inner().name() : d.name();
    try (GraphHarness h = new GraphHarness(d)) {
      Case c = randomCase(21, 6, 10, 2, 3);
      GraphHarness.Out atEquality = h.run(c.t(), c.t(), c.y(), c.epoch(), ones(6));
      double[] same = atEquality.values();
      if (!NOT_ZERO_AT_EQUALITY.contains(base)) {
        for (double v : same) {
          assertAllClose(v, 0, 0, 2e-6 * tSquared(d), spec + " at student = teacher");
        }
        // A minimum: the gradient vanishes there too (TVD's |.| has gradient sign(0) = 0).
        for (double[] row : atEquality.gradient()) {
          for (double g : row) {
            assertAllClose(g, 0, 0, 1e-5 * tSquared(d), spec + " gradient at student = teacher");
          }
        }
      } else if (base.equals("nkd")) {
        // NKD's target part remains: -t_y log t_y at T = 1.
        for (int i = 0; i < 6; i++) {
          double ty = Reference.softmax(c.t()[i], 1)[c.y()[i]];
          assertAllClose(same[i], -ty * Math.log(ty), 0, 1e-5, spec + " at student = teacher");
        }
      } else {
        // Sinkhorn at student = teacher: the entropic plan keeps most mass on the zero-cost diagonal, so the
        // value is far below that for an unrelated student.
        double[] other = h.run(c.s(), c.t(), c.y(), c.epoch(), ones(6)).values();
        assertTrue(mean(same) < 0.5 * mean(other), spec + ": " + mean(same) + " vs " + mean(other));
      }
      for (long seed = 30; seed < 34; seed++) {
        Case r = randomCase(seed, 8, 5, 3, 3);
        for (double v : h.run(r.s(), r.t(), r.y(), r.epoch(), ones(8)).values()) {
          assertTrue(v >= -1e-6 * tSquared(d), spec + " negative: " + v);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "js", "tvd", "symmetric-kl", "cauchy-schwarz", "alpha(alpha=0.5)", "alpha-beta(a=0.4, b=0.4)",
        "alpha-beta(a=0, b=0)", "mse-logits"
      })
  void symmetricDivergencesAreSymmetric(String spec) {
    Divergence d = Divergences.parse(spec);
    try (GraphHarness h = new GraphHarness(d)) {
      Case c = randomCase(41, 7, 6, 2, 3);
      double[] st = h.run(c.s(), c.t(), c.y(), 0, ones(7)).values();
      double[] ts = h.run(c.t(), c.s(), c.y(), 0, ones(7)).values();
      DivergencesTest.assertClose(spec + " swapped", ts, st, 1e-5, 1e-6, 1);
    }
  }

  @Test
  void alphaBetaAndAlphaReduceToKlAndReverseKl() {
    Case c = randomCase(51, 5, 8, 2, 3);
    double[] kl = values("kl(T=1)", c);
    double[] rkl = values("reverse-kl(T=1)", c);
    // Exact limit forms.
    DivergencesTest.assertClose("alpha-beta(1,0) = KL", values("alpha-beta(a=1, b=0)", c), kl, 1e-5, 1e-6, 1);
    DivergencesTest.assertClose("alpha-beta(0,1) = reverse KL", values("alpha-beta(a=0, b=1)", c), rkl, 1e-5, 1e-6, 1);
    DivergencesTest.assertClose("alpha(1) = KL", values("alpha(alpha=1)", c), kl, 1e-5, 1e-6, 1);
    DivergencesTest.assertClose("alpha(0) = reverse KL", values("alpha(alpha=0)", c), rkl, 1e-5, 1e-6, 1);
    // The general forms approach the limits continuously (first-order in the offset).
    DivergencesTest.assertClose("alpha-beta(1, 1e-3)", values("alpha-beta(a=1, b=0.001)", c), kl, 1e-2, 1e-3, 1);
    DivergencesTest.assertClose("alpha-beta(1e-3, 1)", values("alpha-beta(a=0.001, b=1)", c), rkl, 1e-2, 1e-3, 1);
    DivergencesTest.assertClose("alpha(0.999)", values("alpha(alpha=0.999)", c), kl, 1e-2, 1e-3, 1);
    DivergencesTest.assertClose("alpha(0.001)", values("alpha(alpha=0.001)", c), rkl, 1e-2, 1e-3, 1);
    // The a + b = 0 and a = b = 0 limit forms are the limits of the general form (checked in float64).
    double[][] s = c.s();
    double[][] t = c.t();
    for (int i = 0; i < 5; i++) {
      double[] lp = Reference.logSoftmax(t[i], 1);
      double[] lq = Reference.logSoftmax(s[i], 1);
      double limit = Reference.alphaBeta(0.5, -0.5, lp, lq);
      assertAllClose(Reference.alphaBeta(0.5, -0.5 + 1e-6, lp, lq), limit, 0, 1e-4 * limit);
      double zero = Reference.alphaBeta(0, 0, lp, lq);
      assertAllClose(Reference.alphaBeta(1e-5, 1e-5, lp, lq), zero, 0, 1e-3 * zero);
      assertAllClose(Reference.alphaBeta(0.7, 1e-6, lp, lq), Reference.alphaBeta(0.7, 0, lp, lq), 0, 1e-4);
    }
    DivergencesTest.assertClose(
        "alpha-beta(0.5,-0.5) graph", values("alpha-beta(a=0.5, b=-0.5)", c),
        Reference.perExample(Divergences.parse("alpha-beta(a=0.5, b=-0.499999)"), s, t, c.y(), 0), 1e-4, 1e-6, 1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void extremeLogitsGiveFiniteValuesAndGradients(String spec) {
    for (String variant : new java.util.LinkedHashSet<>(List.of(withTemperature(spec, 0.5f), withTemperature(spec, 20f)))) {
      Divergence d = Divergences.parse(variant);
      if (unboundedPowers(d)) {
        // p^a q^b with a negative exponent (or alpha outside [0, 1]) is astronomically large, beyond float64 too,
        // when a probability underflows: the divergence itself is infinite there, as documented.
        continue;
      }
      try (GraphHarness h = new GraphHarness(d)) {
        int b = 4;
        int k = 6;
        double[][] s = new double[b][k];
        double[][] t = new double[b][k];
        java.util.SplittableRandom r = new java.util.SplittableRandom(61);
        for (int i = 0; i < b; i++) {
          for (int c = 0; c < k; c++) {
            // Magnitudes up to 1e4, and very different scales between student (1e4) and teacher (1e-2 .. 1e4).
            s[i][c] = (r.nextBoolean() ? 1 : -1) * 1e4 * r.nextDouble();
            t[i][c] = (r.nextBoolean() ? 1 : -1) * Math.pow(10, -2 + 6 * r.nextDouble());
          }
        }
        int[] y = {0, 1, 2, 3};
        GraphHarness.Out out = h.run(s, t, y, 5, ones(b));
        for (double v : out.values()) {
          assertTrue(Double.isFinite(v), variant + " value " + v);
        }
        for (double[] row : out.gradient()) {
          for (double g : row) {
            assertTrue(Double.isFinite(g), variant + " gradient " + g);
          }
        }
      }
    }
  }

  private static boolean unboundedPowers(Divergence d) {
    Divergence base = d instanceof Cswt c ? c.inner() : d;
    if (base instanceof Alpha a) {
      return a.alpha() < 0 || a.alpha() > 1;
    }
    if (base instanceof AlphaBeta ab) {
      return ab.alpha() < 0 || ab.beta() < 0;
    }
    return false;
  }

  /** {@code spec} with its temperature set to {@code t}, or {@code spec} itself when it has no temperature. */
  private static String withTemperature(String spec, float t) {
    if (spec.startsWith("cswt")) {
      return "cswt(Tmin=" + Math.min(t, 2f) + ", Tmax=" + Math.max(t, 2f) + "):" + spec.substring(spec.indexOf(':') + 1);
    }
    if (!(Divergences.parse(spec) instanceof Tempered) || spec.contains("T=")) {
      return spec;
    }
    return spec.contains("(") ? spec.substring(0, spec.length() - 1) + ", T=" + t + ")" : spec + "(T=" + t + ")";
  }

  @Test
  void cswtGivesTheMostSimilarExampleTheLowestTemperature() {
    Case c = randomCase(81, 5, 4, 2, 3);
    double[][] s = c.s().clone();
    s[2] = c.t()[2].clone(); // student equals teacher on example 2: cosine 1, the batch's highest
    Cswt cswt = (Cswt) Divergences.parse("cswt(Tmin=2, Tmax=6):kl");
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      var tf = org.tensorflow.op.Ops.create(g);
      var temps = cswt.temperatures(tf, tf.constant(toFloat(s)), tf.constant(toFloat(c.t())));
      try (var session = new org.tensorflow.Session(g);
          var out = session.runner().fetch(temps).run()) {
        var t = (org.tensorflow.types.TFloat32) out.get(0);
        double[] ref = Reference.cswtTemperatures(cswt, s, c.t());
        assertAllClose(t.getFloat(2), 2f, Assertions.EXACT, "most similar example");
        double max = 0;
        for (int i = 0; i < 5; i++) {
          assertAllClose(t.getFloat(i), ref[i], 0, 1e-6, "example " + i);
          max = Math.max(max, t.getFloat(i));
        }
        assertAllClose(max, 6.0, Assertions.EXACT, "least similar example gets Tmax");
      }
    }
  }

  private static float[][] toFloat(double[][] x) {
    float[][] f = new float[x.length][x[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int k = 0; k < x[0].length; k++) {
        f[i][k] = (float) x[i][k];
      }
    }
    return f;
  }

  @Test
  void registryListsEveryDivergenceOfTheFamily() {
    List<String> names = Divergences.entries().stream().map(Divergences.Entry::name).toList();
    assertEquals(
        List.of(
            "kl", "reverse-kl", "js", "tvd", "symmetric-kl", "skew-kl", "skew-reverse-kl", "alpha-beta", "alpha",
            "cauchy-schwarz", "sinkhorn", "dkd", "nkd", "bdkd", "mse-logits"),
        names);
    for (Divergences.Entry e : Divergences.entries()) {
      assertEquals(e.name(), Divergences.parse(e.name()).name());
    }
  }

  @Test
  void parsesParametersAndPolicy() {
    assertEquals(new Kl(2f), Divergences.parse(" kl( T = 2 ) "));
    assertEquals(new Dkd(1f, 4f, 4f, 0), Divergences.parse("dkd(beta=4, warmup=0)"));
    assertEquals(new SkewKl(0.2f, 1f, true), Divergences.parse("skew-reverse-kl(a=0.2)"));
    assertEquals(new Cswt(new Kl(4f), 2f, 6f), Divergences.parse("cswt:kl"));
    assertEquals(new Cswt(new Nkd(1.5f, 1f), 1f, 8f), Divergences.parse("cswt(Tmin=1, Tmax=8):nkd"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "nope", "kl(T=0)", "kl(T=-1)", "kl(X=1)", "kl(T=abc)", "kl(T=2", "kl(T)", "js(beta=1)", "skew-kl(a=1)",
        "symmetric-kl(lambda=2)", "sinkhorn(iters=0)", "sinkhorn(eps=0)", "sinkhorn(iters=2.5)", "dkd(warmup=-1)",
        "dkd(beta=-1)", "bdkd(w=0.5)", "alpha(alpha=NaN)", "cswt:mse-logits", "foo:kl", "cswt(Tmin=6, Tmax=2):kl",
        "cswt(Tmin=0):kl", "cswt(X=1):kl", "mse-logits(T=2)"
      })
  void rejectsBadSpecsWithOneClearLine(String spec) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Divergences.parse(spec));
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().contains("divergence"), e.getMessage());
  }

  private static double[] values(String spec, Case c) {
    try (GraphHarness h = new GraphHarness(Divergences.parse(spec))) {
      return h.run(c.s(), c.t(), c.y(), c.epoch(), ones(c.b())).values();
    }
  }

  private static double tSquared(Divergence d) {
    double t = d instanceof Cswt c ? c.maxTemperature() : d instanceof Tempered td ? td.temperature() : 1;
    return Math.max(1, t * t);
  }

  private static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }
}
