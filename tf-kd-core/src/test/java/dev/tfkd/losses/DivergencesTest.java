package dev.tfkd.losses;

import static dev.tfkd.testing.Assertions.assertAllClose;

import dev.tfkd.testing.Assertions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every registered divergence (and parameter variants, limit forms and the CSWT policy) against the float64
 * {@link Reference}: values and gradients.
 *
 * <p>Tolerances. The graph computes in float32 (unit round-off 6e-8) on float32-rounded logits; the reference in
 * float64 on the same rounded logits. Values: {@code |tf - ref| <= 1e-5 |ref| + 1e-6 * scale}, scale = {@code
 * max(1, T^2, max_i |ref_i|)} (see {@link #valueScale}): relative 1e-5, with an absolute floor for values near zero,
 * where float32 log-space cancellation leaves errors of about 1e-7 T^2. Gradients: against central differences of
 * the float64 reference (h = 1e-6 relative to the logit, truncation error about 1e-11; with K = 1000 a seeded
 * sample of 40 classes per row, label included), {@code |tf - fd| <= 1e-5 |fd| + 1e-5 max|fd|} element-wise: a
 * gradient element is a difference of O(max) terms, so its float32 error is relative to the batch's largest
 * element, not to itself (with K = 1000 elements of 1e-6 carry errors of 1e-9, measured).
 */
class DivergencesTest {

  /** Every registry entry with its defaults, plus variants that exercise other code paths. */
  static Stream<String> specs() {
    List<String> specs = new ArrayList<>();
    for (Divergences.Entry e : Divergences.entries()) {
      specs.add(e.name());
    }
    specs.addAll(
        List.of(
            "kl(T=1)",
            "reverse-kl(T=2)",
            "js(beta=0.3, T=2)",
            "symmetric-kl(lambda=0.2, T=3)",
            "skew-kl(a=0)",
            "skew-reverse-kl(a=0.5, T=2)",
            "alpha-beta(a=1, b=0)",
            "alpha-beta(a=0, b=0.5)",
            "alpha-beta(a=0.5, b=-0.5)",
            "alpha-beta(a=0, b=0)",
            "alpha-beta(a=-0.3, b=0.6, T=2)",
            "alpha(alpha=1)",
            "alpha(alpha=0)",
            "alpha(alpha=2)",
            "alpha(alpha=-0.5, T=3)",
            "sinkhorn(eps=0.05, iters=5, T=2)",
            "dkd(warmup=0)",
            "dkd(alpha=0.5, beta=2, T=2, warmup=3)",
            "nkd(gamma=1, T=4)",
            "bdkd(w=2, T=4)",
            "cswt:kl",
            "cswt(Tmin=1, Tmax=8):dkd(warmup=0)",
            "cswt:sinkhorn",
            "cswt:nkd",
            "cswt:js"));
    return specs.stream();
  }

  /** A batch of random logits with labels. */
  record Case(double[][] s, double[][] t, int[] y, double epoch) {
    int b() {
      return s.length;
    }
  }

  static Case randomCase(long seed, int b, int k, double studentScale, double teacherScale) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] s = new double[b][k];
    double[][] t = new double[b][k];
    int[] y = new int[b];
    for (int i = 0; i < b; i++) {
      for (int c = 0; c < k; c++) {
        s[i][c] = gaussian(r) * studentScale;
        t[i][c] = gaussian(r) * teacherScale;
      }
      y[i] = r.nextInt(k);
    }
    return new Case(GraphHarness.roundToFloat(s), GraphHarness.roundToFloat(t), y, 2);
  }

  static double gaussian(SplittableRandom r) {
    return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
  }

  static List<Case> valueCases() {
    return List.of(
        randomCase(1, 1, 2, 2, 3),
        randomCase(2, 4, 2, 1, 2),
        randomCase(3, 6, 10, 2, 3),
        randomCase(4, 3, 1000, 3, 4),
        randomCase(5, 16, 5, 0.5, 1));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void valuesMatchFloat64ReferenceAndGoldenFile(String spec) {
    Divergence d = Divergences.parse(spec);
    try (GraphHarness h = new GraphHarness(d, true)) {
      for (Case c : valueCases()) {
        double[] ref = Reference.perExample(d, c.s, c.t, c.y, c.epoch);
        double[] tf = h.run(c.s, c.t, c.y, c.epoch, ones(c.b())).values();
        assertClose(spec + " B=" + c.b() + " K=" + c.s[0].length + " values", tf, ref, 1e-5, 1e-6, valueScale(d, ref));
      }
      Golden.check(spec, h);
    }
  }

  @AfterAll
  static void writeGoldenFileIfAsked() throws java.io.IOException {
    Golden.writeIfAsked();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void gradientsMatchFiniteDifferences(String spec) {
    Divergence d = Divergences.parse(spec);
    List<Case> cases = List.of(randomCase(11, 1, 2, 2, 3), randomCase(12, 5, 7, 2, 3), randomCase(13, 2, 1000, 3, 4));
    try (GraphHarness h = new GraphHarness(d, true)) {
      for (Case c : cases) {
        SplittableRandom r = new SplittableRandom(99);
        double[] w = new double[c.b()];
        for (int i = 0; i < w.length; i++) {
          w[i] = 0.5 + r.nextDouble();
        }
        double[][] tf = h.run(c.s, c.t, c.y, c.epoch, w).gradient();
        double[][] fd = finiteDifferences(d, c, w, 40);
        for (int i = 0; i < c.b(); i++) {
          assertClose(
              spec + " B=" + c.b() + " K=" + c.s[0].length + " gradient row " + i, pick(tf[i], fd[i]), pick(fd[i], fd[i]),
              1e-5, 1e-5, max(fd));
        }
      }
    }
  }

  /**
   * Central differences of {@code sum_i w_i d_i} in float64 with respect to the student's logits. With more than
   * {@code maxPerRow} classes, a seeded sample of that many classes per row (always including the label) is
   * differentiated and the others are left NaN, which {@link #pick} skips: K = 1000 stays fast.
   */
  static double[][] finiteDifferences(Divergence d, Case c, double[] w, int maxPerRow) {
    double[][] g = new double[c.b()][c.s[0].length];
    double[][] s = new double[c.b()][];
    for (int i = 0; i < c.b(); i++) {
      s[i] = c.s[i].clone();
    }
    SplittableRandom pickRng = new SplittableRandom(7);
    for (int i = 0; i < c.b(); i++) {
      int kk = s[i].length;
      boolean[] chosen = new boolean[kk];
      if (kk <= maxPerRow) {
        java.util.Arrays.fill(chosen, true);
      } else {
        java.util.Arrays.fill(g[i], Double.NaN);
        chosen[c.y[i]] = true;
        for (int n = 1; n < maxPerRow; n++) {
          chosen[pickRng.nextInt(kk)] = true;
        }
      }
      for (int k = 0; k < kk; k++) {
        if (!chosen[k]) {
          continue;
        }
        double x = s[i][k];
        double h = 1e-6 * Math.max(1, Math.abs(x));
        s[i][k] = x + h;
        double up = weighted(Reference.perExample(d, s, c.t, c.y, c.epoch), w);
        s[i][k] = x - h;
        double down = weighted(Reference.perExample(d, s, c.t, c.y, c.epoch), w);
        s[i][k] = x;
        g[i][k] = (up - down) / (2 * h);
      }
    }
    return g;
  }

  /** The entries of {@code x} where {@code mask} is not NaN. */
  static double[] pick(double[] x, double[] mask) {
    return java.util.stream.IntStream.range(0, x.length).filter(i -> !Double.isNaN(mask[i])).mapToDouble(i -> x[i]).toArray();
  }

  private static double weighted(double[] v, double[] w) {
    double sum = 0;
    for (int i = 0; i < v.length; i++) {
      sum += v[i] * w[i];
    }
    return sum;
  }

  static double[] ones(int n) {
    double[] o = new double[n];
    java.util.Arrays.fill(o, 1);
    return o;
  }

  static double max(double[][] x) {
    double m = 0;
    for (double[] row : x) {
      for (double v : row) {
        m = Double.isNaN(v) ? m : Math.max(m, Math.abs(v));
      }
    }
    return m;
  }

  /**
   * The absolute-error scale of a batch of values: {@code max(1, T^2, max|ref|)}. Float32 log-probabilities carry
   * absolute errors of a few ulps of O(1) numbers, which a {@code T^2} factor multiplies; a value near zero (student
   * close to teacher) cannot be held to a relative bound.
   */
  static double valueScale(Divergence d, double[] ref) {
    double scale = 1;
    for (double e : ref) {
      scale = Math.max(scale, Math.abs(e));
    }
    double t = d instanceof Cswt c ? c.maxTemperature() : d instanceof Tempered td ? td.temperature() : 1;
    return Math.max(scale, t * t);
  }

  /**
   * {@link dev.tfkd.testing.Assertions#assertAllClose} with an absolute tolerance of {@code atolFactor} times the
   * batch's {@link #valueScale}.
   */
  static void assertClose(String what, double[] actual, double[] expected, double rtol, double atolFactor, double scale) {
    assertAllClose(
        actual, expected, new Assertions.Tolerance(rtol, atolFactor * Math.max(scale, 1e-3)), what);
  }
}
