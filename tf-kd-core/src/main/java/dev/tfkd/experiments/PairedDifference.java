package dev.tfkd.experiments;

import java.util.Locale;

/**
 * Paired differences over seeds (for example MCMI minus MLL, the same seed and cell on both sides): their mean,
 * sample standard deviation, the 95% Student-t confidence interval of the mean ({@code mean +- t_{0.975, n-1} sd /
 * sqrt(n)}, quantile computed by {@link StudentT}), and how many differences are positive, zero and negative. With
 * one pair there is no spread and no interval: {@code sd}, {@code low} and {@code high} are NaN, and {@link
 * #format} says {@code n = 1}.
 *
 * @param n number of pairs
 * @param mean mean difference
 * @param sd sample standard deviation (n - 1 in the denominator); NaN for n = 1
 * @param low lower end of the 95% interval; NaN for n = 1
 * @param high upper end of the 95% interval; NaN for n = 1
 * @param positive how many differences are > 0
 * @param negative how many differences are < 0
 */
public record PairedDifference(int n, double mean, double sd, double low, double high, int positive, int negative) {

  /**
   * The statistics of {@code differences}.
   *
   * @param differences one difference per seed; NaN entries are an error
   * @return the summary; {@code n = 0} gives NaN everywhere
   */
  public static PairedDifference of(double[] differences) {
    int n = differences.length;
    if (n == 0) {
      return new PairedDifference(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0);
    }
    double mean = 0;
    int pos = 0;
    int neg = 0;
    for (double d : differences) {
      if (Double.isNaN(d)) {
        throw new IllegalArgumentException("a paired difference is NaN");
      }
      mean += d;
      pos += d > 0 ? 1 : 0;
      neg += d < 0 ? 1 : 0;
    }
    mean /= n;
    if (n == 1) {
      return new PairedDifference(1, mean, Double.NaN, Double.NaN, Double.NaN, pos, neg);
    }
    double ss = 0;
    for (double d : differences) {
      ss += (d - mean) * (d - mean);
    }
    double sd = Math.sqrt(ss / (n - 1));
    double half = StudentT.quantile(0.975, n - 1) * sd / Math.sqrt(n);
    return new PairedDifference(n, mean, sd, mean - half, mean + half, pos, neg);
  }

  /**
   * One table cell, values multiplied by {@code scale}: {@code +0.40 ± 0.31 [-0.37, +1.17] 2/3 > 0}, or {@code
   * +0.40 (n = 1)} for one pair, {@code -} for none.
   *
   * @param scale e.g. 100 for percentage points
   * @param digits decimals
   * @return the cell text
   */
  public String format(double scale, int digits) {
    if (n == 0) {
      return "-";
    }
    String f = "%+." + digits + "f";
    if (n == 1) {
      return String.format(Locale.ROOT, f + " (n = 1)", mean * scale);
    }
    return String.format(
        Locale.ROOT, f + " ± %." + digits + "f [" + f + ", " + f + "] %d/%d > 0", mean * scale, sd * scale,
        low * scale, high * scale, positive, n);
  }
}
