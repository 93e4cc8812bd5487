package dev.tfkd.metrics;

import dev.tfkd.data.Dataset;

/**
 * Scores logits against labels (and against the true posterior where it is known), in float64 in plain Java:
 * accuracy overall and per class, NLL, expected calibration error, empirical CMI, and on data with a known Bayes
 * posterior the mean KL to it and the BCPD error (mean squared distance to it).
 */
public final class Metrics {
  private Metrics() {}

  /** Equal-width confidence bins of the expected calibration error (15, as Guo et al. 2017 use). */
  public static final int ECE_BINS = 15;

  /**
   * Evaluates {@code logits} ({@code data.size() x K}, row-major) on {@code data}.
   *
   * <p>The empirical CMI uses centroids computed from these same predictions, class by class. Non-finite logits
   * make NLL and KL infinite or NaN; they are reported, not hidden.
   */
  public static Evaluation evaluate(float[] logits, Dataset data) {
    return evaluate(logits, data, null);
  }

  /**
   * Evaluates {@code logits} on {@code data}, with the CMI measured against given class centroids ({@code K x K}
   * row-major, e.g. those of the training data), or against the data's own when {@code centroids} is null.
   */
  public static Evaluation evaluate(float[] logits, Dataset data, double[] centroids) {
    int n = data.size();
    int k = data.numClasses();
    if (logits.length != (long) n * k) {
      throw new IllegalArgumentException(
          "expected " + (long) n * k + " logits for " + data.name() + ", got " + logits.length);
    }
    double[] logProb = new double[k];
    int[] classTotal = new int[k];
    int[] classCorrect = new int[k];
    int[] binCount = new int[ECE_BINS];
    int[] binCorrect = new int[ECE_BINS];
    double[] binConfidence = new double[ECE_BINS];
    long correct = 0;
    double nll = 0, kl = 0, mse = 0;
    for (int i = 0; i < n; i++) {
      logSoftmax(logits, i * k, k, logProb);
      int label = data.labels()[i];
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (logits[i * k + c] > logits[i * k + best]) {
          best = c;
        }
      }
      classTotal[label]++;
      if (best == label) {
        correct++;
        classCorrect[label]++;
      }
      double confidence = Math.exp(logProb[best]);
      if (Double.isFinite(confidence)) {
        // Bin b holds confidences in (b/B, (b+1)/B]; confidence is at least 1/K > 0.
        int b = Math.min(ECE_BINS - 1, Math.max(0, (int) Math.ceil(confidence * ECE_BINS) - 1));
        binCount[b]++;
        binConfidence[b] += confidence;
        if (best == label) {
          binCorrect[b]++;
        }
      }
      nll -= logProb[label];
      if (data.hasPosterior()) {
        for (int c = 0; c < k; c++) {
          double p = data.posterior()[i * k + c];
          if (p > 0) {
            kl += p * (Math.log(p) - logProb[c]);
          }
          double d = Math.exp(logProb[c]) - p;
          mse += d * d;
        }
      }
    }
    double nan = Double.NaN;
    double[] perClass = new double[k];
    for (int c = 0; c < k; c++) {
      perClass[c] = classTotal[c] == 0 ? nan : (double) classCorrect[c] / classTotal[c];
    }
    double ece = 0;
    for (int b = 0; b < ECE_BINS; b++) {
      if (binCount[b] > 0) {
        ece += Math.abs((double) binCorrect[b] - binConfidence[b]) / n;
      }
    }
    double cmi =
        n == 0
            ? nan
            : centroids == null
                ? EmpiricalCmi.of(logits, data.labels(), k, 1)
                : EmpiricalCmi.of(logits, data.labels(), centroids, k, 1);
    return new Evaluation(
        n,
        n == 0 ? nan : (double) correct / n,
        n == 0 ? nan : nll / n,
        data.hasPosterior() && n > 0 ? kl / n : nan,
        data.hasPosterior() && n > 0 ? mse / n : nan,
        perClass,
        n == 0 ? nan : ece,
        cmi);
  }

  /** Evaluates the exact posterior itself as a model: the Bayes classifier's figures (KL 0). */
  public static Evaluation bayes(Dataset data) {
    if (!data.hasPosterior()) {
      throw new IllegalArgumentException(data.name() + " has no known posterior");
    }
    float[] logits = new float[data.posterior().length];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) Math.log(Math.max(data.posterior()[i], 1e-300));
    }
    return evaluate(logits, data);
  }

  /** Log-softmax of {@code src[off .. off + k)} into {@code out}, in float64. */
  public static void logSoftmax(float[] src, int off, int k, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < k; c++) {
      max = Math.max(max, src[off + c]);
    }
    double sum = 0;
    for (int c = 0; c < k; c++) {
      sum += Math.exp(src[off + c] - max);
    }
    double lse = max + Math.log(sum);
    for (int c = 0; c < k; c++) {
      out[c] = src[off + c] - lse;
    }
  }
}
