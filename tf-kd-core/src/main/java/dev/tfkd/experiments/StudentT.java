package dev.tfkd.experiments;

/**
 * Student's t distribution: its CDF through the regularized incomplete beta function and its quantiles by
 * bisection, in float64, for any number of degrees of freedom (no table). Used for the 95% confidence intervals of
 * the paired differences. Stateless and thread-safe.
 */
public final class StudentT {
  private StudentT() {}

  /**
   * {@code P(T <= t)} for {@code df} degrees of freedom.
   *
   * @param t the point; NaN gives NaN
   * @param df degrees of freedom, > 0
   * @return the cumulative probability
   */
  public static double cdf(double t, double df) {
    if (!(df > 0)) {
      throw new IllegalArgumentException("degrees of freedom must be > 0, got " + df);
    }
    if (Double.isNaN(t)) {
      return Double.NaN;
    }
    if (Double.isInfinite(t)) {
      return t > 0 ? 1 : 0;
    }
    double tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
    return t > 0 ? 1 - tail : tail;
  }

  /**
   * The {@code p} quantile: the {@code t} with {@code cdf(t, df) = p}.
   *
   * @param p in (0, 1)
   * @param df degrees of freedom, > 0
   * @return the quantile, to about 1e-12 relative
   */
  public static double quantile(double p, double df) {
    if (!(p > 0 && p < 1)) {
      throw new IllegalArgumentException("p must be in (0, 1), got " + p);
    }
    if (p < 0.5) {
      return -quantile(1 - p, df);
    }
    double lo = 0;
    double hi = 1;
    while (cdf(hi, df) < p) {
      hi *= 2;
    }
    // Bisection: cdf is monotone; 200 halvings reach the resolution of a double for any bracket.
    for (int k = 0; k < 200 && hi - lo > 1e-13 * Math.max(1, hi); k++) {
      double mid = 0.5 * (lo + hi);
      if (cdf(mid, df) < p) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return 0.5 * (lo + hi);
  }

  /** {@code I_x(a, b)}, the regularized incomplete beta function (continued fraction, modified Lentz). */
  static double regularizedBeta(double x, double a, double b) {
    if (x <= 0) {
      return 0;
    }
    if (x >= 1) {
      return 1;
    }
    double front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if (x < (a + 1) / (a + b + 2)) {
      return front * betaFraction(x, a, b) / a;
    }
    return 1 - front * betaFraction(1 - x, b, a) / b;
  }

  private static double betaFraction(double x, double a, double b) {
    final double tiny = 1e-300;
    double c = 1;
    double d = 1 - (a + b) * x / (a + 1);
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 10_000; m++) {
      int m2 = 2 * m;
      double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      c = Math.abs(c) < tiny ? tiny : c;
      h *= d * c;
      num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      c = Math.abs(c) < tiny ? tiny : c;
      double step = d * c;
      h *= step;
      if (Math.abs(step - 1) < 1e-16) {
        break;
      }
    }
    return h;
  }

  /** {@code ln Gamma(x)} for x > 0 (Lanczos, g = 7, 9 terms; about 1e-15 relative). */
  static double logGamma(double x) {
    if (x < 0.5) {
      // Reflection keeps the series in its accurate range.
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
    }
    final double[] g = {
      0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
      12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7
    };
    double z = x - 1;
    double sum = g[0];
    for (int k = 1; k < g.length; k++) {
      sum += g[k] / (z + k);
    }
    double t = z + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
  }
}
