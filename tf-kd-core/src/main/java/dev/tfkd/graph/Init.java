package dev.tfkd.graph;

import java.util.SplittableRandom;

/**
 * How a variable starts. Values are drawn in Java from a seeded {@link SplittableRandom}, so the initial weights
 * depend only on the run's seed and the variable's name, never on TensorFlow's kernels or the thread count.
 */
public enum Init {
  /** All zeros (biases, batch-norm shifts and moving means). */
  ZEROS,
  /** All ones (batch-norm scales and moving variances). */
  ONES,
  /** He et al. 2015: normal with standard deviation sqrt(2 / fanIn), for ReLU layers. */
  HE_NORMAL,
  /** Glorot and Bengio 2010: uniform in +-sqrt(6 / (fanIn + fanOut)). */
  GLOROT_UNIFORM;

  /**
   * Fills {@code n} values.
   *
   * @param fanIn inputs per output unit (for a kernel {@code [kh, kw, cin, cout]}: kh*kw*cin)
   * @param fanOut outputs per input unit (kh*kw*cout)
   */
  public float[] values(int n, int fanIn, int fanOut, SplittableRandom rng) {
    float[] v = new float[n];
    switch (this) {
      case ZEROS -> {}
      case ONES -> java.util.Arrays.fill(v, 1f);
      case HE_NORMAL -> {
        double std = Math.sqrt(2.0 / fanIn);
        for (int i = 0; i < n; i++) {
          v[i] = (float) (std * gaussian(rng));
        }
      }
      case GLOROT_UNIFORM -> {
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < n; i++) {
          v[i] = (float) ((2 * rng.nextDouble() - 1) * limit);
        }
      }
    }
    return v;
  }

  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
