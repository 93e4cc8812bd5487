package dev.tfkd.metrics;

import dev.tfkd.data.Dataset;

/**
 * Reliability of a classifier's confidence and its accuracy per class, from logits, in float64.
 *
 * <p>The reliability diagram groups examples by confidence (the top softmax probability) into {@code bins} equal
 * bins over [0, 1]; the expected calibration error is {@code ECE = sum_b (n_b / n) |accuracy_b - confidence_b|}
 * (Guo et al. 2017, "On calibration of modern neural networks"). Examples with non-finite logits count as wrong
 * with confidence 0.
 */
public final class Calibration {
  private Calibration() {}

  /**
   * A reliability diagram.
   *
   * @param counts examples per bin
   * @param confidence mean confidence per bin (NaN for an empty bin)
   * @param accuracy accuracy per bin (NaN for an empty bin)
   * @param ece the expected calibration error
   */
  public record Reliability(int[] counts, double[] confidence, double[] accuracy, double ece) {
    /**
     * The number of equal-width confidence bins.
     *
     * @return the bin count
     */
    public int bins() {
      return counts.length;
    }
  }

  /** The reliability diagram of {@code logits} ({@code data.size() x K}) on {@code data}. */
  public static Reliability reliability(float[] logits, Dataset data, int bins) {
    if (bins < 1) {
      throw new IllegalArgumentException("bins must be >= 1, got " + bins);
    }
    int n = data.size();
    int k = data.numClasses();
    checkSize(logits, data);
    int[] counts = new int[bins];
    double[] conf = new double[bins];
    double[] correct = new double[bins];
    double[] logProb = new double[k];
    for (int i = 0; i < n; i++) {
      Metrics.logSoftmax(logits, i * k, k, logProb);
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (logProb[c] > logProb[best]) {
          best = c;
        }
      }
      double p = Math.exp(logProb[best]);
      if (!Double.isFinite(p)) {
        p = 0;
      }
      int b = Math.min(bins - 1, (int) (p * bins));
      counts[b]++;
      conf[b] += p;
      if (best == data.labels()[i] && Double.isFinite(logProb[best])) {
        correct[b]++;
      }
    }
    double ece = 0;
    double[] acc = new double[bins];
    for (int b = 0; b < bins; b++) {
      if (counts[b] == 0) {
        conf[b] = Double.NaN;
        acc[b] = Double.NaN;
        continue;
      }
      conf[b] /= counts[b];
      acc[b] = correct[b] / counts[b];
      ece += (double) counts[b] / n * Math.abs(acc[b] - conf[b]);
    }
    return new Reliability(counts, conf, acc, n == 0 ? Double.NaN : ece);
  }

  /** Accuracy per class (NaN for a class with no examples in {@code data}). */
  public static double[] perClassAccuracy(float[] logits, Dataset data) {
    int k = data.numClasses();
    checkSize(logits, data);
    int[] total = new int[k];
    int[] right = new int[k];
    for (int i = 0; i < data.size(); i++) {
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (logits[i * k + c] > logits[i * k + best]) {
          best = c;
        }
      }
      int y = data.labels()[i];
      total[y]++;
      if (best == y) {
        right[y]++;
      }
    }
    double[] acc = new double[k];
    for (int c = 0; c < k; c++) {
      acc[c] = total[c] == 0 ? Double.NaN : (double) right[c] / total[c];
    }
    return acc;
  }

  private static void checkSize(float[] logits, Dataset data) {
    if (logits.length != (long) data.size() * data.numClasses()) {
      throw new IllegalArgumentException(
          "expected " + (long) data.size() * data.numClasses() + " logits for " + data.name() + ", got " + logits.length);
    }
  }
}
