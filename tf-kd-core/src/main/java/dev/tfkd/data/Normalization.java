package dev.tfkd.data;

import java.util.Arrays;

/**
 * Per-channel standardisation {@code (x - mean[c]) / std[c]}, the channel being the last dimension of an example
 * (the C of H x W x C; each feature of a flat vector is its own channel). Fit it on the training split and apply
 * the same statistics to every split, so the test data never informs the model.
 *
 * @param mean per-channel means
 * @param std per-channel standard deviations (a constant channel gets 1, so it maps to 0 instead of NaN)
 */
public record Normalization(float[] mean, float[] std) {
  /** Validates the statistics; throws IllegalArgumentException when mean and std lengths differ or are zero. */
  public Normalization {
    mean = mean.clone();
    std = std.clone();
    if (mean.length != std.length || mean.length == 0) {
      throw new IllegalArgumentException("mean and std must have the same positive length");
    }
    for (float s : std) {
      if (!(s > 0) || !Float.isFinite(s)) {
        throw new IllegalArgumentException("standard deviations must be positive and finite: " + Arrays.toString(std));
      }
    }
  }

  /** Means and standard deviations per channel of {@code train} (population statistics, float64 sums). */
  public static Normalization fit(Dataset train) {
    if (train.size() == 0) {
      throw new IllegalArgumentException(train.name() + ": cannot fit a normalisation on no examples");
    }
    int c = channels(train);
    double[] sum = new double[c];
    double[] sq = new double[c];
    float[] x = train.features();
    for (int i = 0; i < x.length; i++) {
      sum[i % c] += x[i];
    }
    long per = x.length / c;
    float[] mean = new float[c];
    for (int j = 0; j < c; j++) {
      mean[j] = (float) (sum[j] / per);
    }
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - sum[i % c] / per;
      sq[i % c] += d * d;
    }
    float[] std = new float[c];
    for (int j = 0; j < c; j++) {
      double s = Math.sqrt(sq[j] / per);
      std[j] = s > 1e-12 ? (float) s : 1f;
    }
    return new Normalization(mean, std);
  }

  /** {@code data} standardised, as a new dataset (posterior kept). */
  public Dataset apply(Dataset data) {
    int c = channels(data);
    if (c != mean.length) {
      throw new IllegalArgumentException(
          data.name() + " has " + c + " channels but the normalisation was fitted on " + mean.length);
    }
    float[] x = data.features();
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (x[i] - mean[i % c]) / std[i % c];
    }
    return new Dataset(data.name(), out, data.labels(), data.exampleShape(), data.numClasses(), data.posterior());
  }

  private static int channels(Dataset d) {
    long[] s = d.exampleShape();
    return (int) s[s.length - 1];
  }
}
