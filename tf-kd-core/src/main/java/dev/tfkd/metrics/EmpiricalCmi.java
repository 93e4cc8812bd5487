package dev.tfkd.metrics;

/**
 * The empirical conditional mutual information of a model's predictions, in float64 in plain Java (the
 * evaluation counterpart of the graph op {@link dev.tfkd.losses.Cmi}).
 *
 * <p>{@code CMI = (1/N) sum_i KL(P_i || Q_{y_i})}, {@code P_i = softmax(z_i / T)}, {@code Q_y} the mean of
 * {@code P_i} over the examples of class {@code y} (Ye et al., ICLR 2024). It is 0 when every example's prediction
 * equals its class centroid, and grows as predictions of the same class spread out. With the centroids from the
 * same data ({@link #of(float[], int[], int, double)}) everything stays in log space, as in the graph op: {@code log
 * Q_y[k]} is a log-sum-exp of the examples' log-probabilities ({@link #logCentroids}), exact however saturated the
 * predictions. Centroids given as probabilities are floored at {@link Double#MIN_VALUE} before the logarithm. A
 * class with no examples has a NaN centroid row, which no example reads.
 */
public final class EmpiricalCmi {
  private EmpiricalCmi() {}

  /**
   * Class centroids of {@code softmax(logits / T)}: {@code K x K} row-major, row {@code y} the mean over the
   * examples labelled {@code y} (NaN if there are none).
   */
  public static double[] centroids(float[] logits, int[] labels, int k, double temperature) {
    check(logits, labels, k, temperature);
    double[] sums = new double[k * k];
    int[] counts = new int[k];
    double[] p = new double[k];
    for (int i = 0; i < labels.length; i++) {
      softmax(logits, i * k, k, temperature, p);
      int y = labels[i];
      counts[y]++;
      for (int c = 0; c < k; c++) {
        sums[y * k + c] += p[c];
      }
    }
    for (int y = 0; y < k; y++) {
      for (int c = 0; c < k; c++) {
        sums[y * k + c] = counts[y] == 0 ? Double.NaN : sums[y * k + c] / counts[y];
      }
    }
    return sums;
  }

  /**
   * The logarithms of {@link #centroids}, computed without leaving log space: {@code log Q_y[c] = logsumexp_{i: y_i
   * = y} log P_i[c] - log n_y} ({@code K x K} row-major; NaN rows for classes without examples). Exact where
   * {@code Q_y[c]} is far below the smallest double.
   */
  public static double[] logCentroids(float[] logits, int[] labels, int k, double temperature) {
    check(logits, labels, k, temperature);
    double[] max = new double[k * k];
    java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
    int[] counts = new int[k];
    double[] logP = new double[k];
    for (int i = 0; i < labels.length; i++) {
      logSoftmax(logits, i * k, k, temperature, logP);
      int y = labels[i];
      counts[y]++;
      for (int c = 0; c < k; c++) {
        max[y * k + c] = Math.max(max[y * k + c], logP[c]);
      }
    }
    double[] sums = new double[k * k];
    for (int i = 0; i < labels.length; i++) {
      logSoftmax(logits, i * k, k, temperature, logP);
      int y = labels[i];
      for (int c = 0; c < k; c++) {
        sums[y * k + c] += Math.exp(logP[c] - max[y * k + c]);
      }
    }
    double[] out = new double[k * k];
    for (int y = 0; y < k; y++) {
      for (int c = 0; c < k; c++) {
        out[y * k + c] = counts[y] == 0 ? Double.NaN : max[y * k + c] + Math.log(sums[y * k + c]) - Math.log(counts[y]);
      }
    }
    return out;
  }

  /**
   * {@code KL(softmax(z_i / T) || centroids[y_i])} for every example, the centroids given as probabilities (entries
   * floored at {@link Double#MIN_VALUE} before the logarithm).
   */
  public static double[] perExample(float[] logits, int[] labels, double[] centroids, int k, double temperature) {
    if (centroids.length != k * k) {
      throw new IllegalArgumentException("centroids must hold K*K = " + k * k + " values, got " + centroids.length);
    }
    double[] logQ = new double[k * k];
    for (int i = 0; i < logQ.length; i++) {
      logQ[i] = Math.log(Math.max(centroids[i], Double.MIN_VALUE));
    }
    return perExampleLog(logits, labels, logQ, k, temperature);
  }

  /**
   * {@code KL(softmax(z_i / T) || Q_{y_i}) = sum_c P_i[c] (log P_i[c] - log Q_{y_i}[c])} for every example, the
   * centroids given as logarithms ({@code K x K} row-major): the float64 counterpart of {@link
   * dev.tfkd.losses.Cmi#perExampleLog}.
   */
  public static double[] perExampleLog(float[] logits, int[] labels, double[] logCentroids, int k, double temperature) {
    check(logits, labels, k, temperature);
    if (logCentroids.length != k * k) {
      throw new IllegalArgumentException("centroids must hold K*K = " + k * k + " values, got " + logCentroids.length);
    }
    double[] out = new double[labels.length];
    double[] logP = new double[k];
    for (int i = 0; i < labels.length; i++) {
      logSoftmax(logits, i * k, k, temperature, logP);
      int y = labels[i];
      double kl = 0;
      for (int c = 0; c < k; c++) {
        double pc = Math.exp(logP[c]);
        if (pc > 0) {
          kl += pc * (logP[c] - logCentroids[y * k + c]);
        }
      }
      out[i] = kl;
    }
    return out;
  }

  /** The mean of {@link #perExample} with centroids from the same data: the empirical CMI; NaN for no data. */
  public static double of(float[] logits, int[] labels, int k, double temperature) {
    return mean(perExampleLog(logits, labels, logCentroids(logits, labels, k, temperature), k, temperature));
  }

  /** The mean of {@link #perExample} with given centroids; NaN for no data. */
  public static double of(float[] logits, int[] labels, double[] centroids, int k, double temperature) {
    return mean(perExample(logits, labels, centroids, k, temperature));
  }

  static double mean(double[] v) {
    if (v.length == 0) {
      return Double.NaN;
    }
    double s = 0;
    for (double d : v) {
      s += d;
    }
    return s / v.length;
  }

  static void logSoftmax(float[] z, int off, int k, double temperature, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < k; c++) {
      max = Math.max(max, z[off + c] / temperature);
    }
    double sum = 0;
    for (int c = 0; c < k; c++) {
      sum += Math.exp(z[off + c] / temperature - max);
    }
    double lse = max + Math.log(sum);
    for (int c = 0; c < k; c++) {
      out[c] = z[off + c] / temperature - lse;
    }
  }

  static void softmax(float[] z, int off, int k, double temperature, double[] out) {
    logSoftmax(z, off, k, temperature, out);
    for (int c = 0; c < k; c++) {
      out[c] = Math.exp(out[c]);
    }
  }

  private static void check(float[] logits, int[] labels, int k, double temperature) {
    if (k < 1 || logits.length != (long) labels.length * k) {
      throw new IllegalArgumentException(
          "expected " + (long) labels.length * k + " logits for " + labels.length + " examples, got " + logits.length);
    }
    if (!(temperature > 0) || Double.isInfinite(temperature)) {
      throw new IllegalArgumentException("temperature must be positive and finite, got " + temperature);
    }
    for (int y : labels) {
      if (y < 0 || y >= k) {
        throw new IllegalArgumentException("label " + y + " outside [0, " + k + ")");
      }
    }
  }

  /**
   * The empirical CMI (temperature 1) of a stream of logits, in one pass: it equals {@code (1/N) sum_i sum_c P_ic
   * log P_ic - sum_y (N_y / N) sum_c Q_yc log Q_yc}, because the centroid {@code Q_y} is the mean of the {@code P_i}
   * of class {@code y}; so only the summed negative entropy and the per-class sums of probabilities are kept. The
   * trainer uses it to measure each epoch's training batches as they go by. Not thread-safe.
   */
  public static final class Accumulator {
    private final int k;
    private final double[] classSums;
    private final long[] counts;
    private final double[] p;
    private double negEntropy;
    private long n;

    /** For {@code k} classes. */
    public Accumulator(int k) {
      if (k < 1) {
        throw new IllegalArgumentException("k must be >= 1, got " + k);
      }
      this.k = k;
      this.classSums = new double[k * k];
      this.counts = new long[k];
      this.p = new double[k];
    }

    /** Adds {@code m} rows of logits {@code z} with labels {@code y[0..m)}. */
    public void add(float[] z, int[] y, int m) {
      for (int i = 0; i < m; i++) {
        addRow(z, i, y[i]);
      }
    }

    /** Adds {@code m} rows of logits {@code z}, row {@code i} labelled {@code labels[order[from + i]]}. */
    public void add(float[] z, int[] labels, int[] order, int from, int m) {
      for (int i = 0; i < m; i++) {
        addRow(z, i, labels[order[from + i]]);
      }
    }

    private void addRow(float[] z, int row, int label) {
      softmax(z, row * k, k, 1, p);
      for (int c = 0; c < k; c++) {
        if (p[c] > 0) {
          negEntropy += p[c] * Math.log(p[c]);
        }
        classSums[label * k + c] += p[c];
      }
      counts[label]++;
      n++;
    }

    /** The CMI of everything added so far; NaN before the first row. */
    public double value() {
      if (n == 0) {
        return Double.NaN;
      }
      double centroidTerm = 0;
      for (int y = 0; y < k; y++) {
        for (int c = 0; c < k; c++) {
          double q = counts[y] == 0 ? 0 : classSums[y * k + c] / counts[y];
          if (q > 0) {
            centroidTerm += counts[y] * q * Math.log(q);
          }
        }
      }
      // Rounding can leave a tiny negative value where the predictions do not depend on the example.
      return Math.max(0, (negEntropy - centroidTerm) / n);
    }
  }
}
