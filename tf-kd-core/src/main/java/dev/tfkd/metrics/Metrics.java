package dev.tfkd.metrics;

import dev.tfkd.data.Dataset;

/**
 * Scores logits against labels (and against the true posterior where it is known), in float64 in plain Java.
 */
public final class Metrics {
  private Metrics() {}

  /**
   * Evaluates {@code logits} ({@code data.size() x K}, row-major) on {@code data}.
   *
   * <p>Non-finite logits make NLL and KL infinite or NaN; they are reported, not hidden.
   */
  public static Evaluation evaluate(float[] logits, Dataset data) {
    int n = data.size();
    int k = data.numClasses();
    if (logits.length != (long) n * k) {
      throw new IllegalArgumentException(
          "expected " + (long) n * k + " logits for " + data.name() + ", got " + logits.length);
    }
    double[] logProb = new double[k];
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
      if (best == label) {
        correct++;
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
    return new Evaluation(
        n,
        n == 0 ? nan : (double) correct / n,
        n == 0 ? nan : nll / n,
        data.hasPosterior() && n > 0 ? kl / n : nan,
        data.hasPosterior() && n > 0 ? mse / n : nan);
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
