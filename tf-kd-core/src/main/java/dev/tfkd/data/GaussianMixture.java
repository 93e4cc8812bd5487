package dev.tfkd.data;

import java.util.SplittableRandom;

/**
 * A built-in synthetic classification problem whose exact Bayes posterior P(y|x) is known.
 *
 * <p>K classes with equal priors in d dimensions; class y draws x from an isotropic Gaussian N(mu_y, s_y^2 I).
 * The means are drawn once from N(0, separation^2 I) and the per-class scales s_y from [0.7, 1.3], so the Bayes
 * decision boundaries are quadratic and classes overlap: the posterior is neither one-hot nor linear in x, which
 * is what makes it a useful target for a teacher that should estimate P(y|x). Everything is derived from one seed.
 *
 * <p>The posterior is computed exactly in float64 for every generated example:
 * log p(x|y) = -d/2 log(2 pi s_y^2) - ||x - mu_y||^2 / (2 s_y^2), normalised over y (log-sum-exp).
 *
 * @param numClasses K, at least 2
 * @param dimensions d, at least 1
 * @param separation the standard deviation of the class means around the origin (larger is easier)
 * @param seed the seed that fixes the means and scales
 */
public record GaussianMixture(int numClasses, int dimensions, double separation, long seed) {

  /** The demo's problem: 10 classes in 20 dimensions, overlapping enough that Bayes accuracy is about 90%. */
  public static GaussianMixture demo() {
    return new GaussianMixture(10, 20, 0.75, 20240113L);
  }

  /** Validates the parameters; throws IllegalArgumentException for fewer than 2 classes or no dimension. */
  public GaussianMixture {
    if (numClasses < 2) {
      throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
    }
    if (dimensions < 1) {
      throw new IllegalArgumentException("dimensions must be >= 1, got " + dimensions);
    }
    if (!(separation > 0) || Double.isInfinite(separation)) {
      throw new IllegalArgumentException("separation must be a positive finite number, got " + separation);
    }
  }

  /** The class means, {@code [K][d]}. */
  public double[][] means() {
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] mu = new double[numClasses][dimensions];
    for (double[] row : mu) {
      for (int j = 0; j < dimensions; j++) {
        row[j] = separation * gaussian(rng);
      }
    }
    return mu;
  }

  /** The per-class standard deviations, {@code [K]}. */
  public double[] scales() {
    SplittableRandom rng = new SplittableRandom(seed).split().split();
    double[] s = new double[numClasses];
    for (int k = 0; k < numClasses; k++) {
      s[k] = 0.7 + 0.6 * rng.nextDouble();
    }
    return s;
  }

  /**
   * Draws {@code n} examples with their exact posteriors. The same {@code (mixture, n, sampleSeed)} always
   * gives the same data.
   */
  public Dataset sample(int n, long sampleSeed, String name) {
    double[][] mu = means();
    double[] s = scales();
    SplittableRandom rng = new SplittableRandom(sampleSeed ^ 0x9E3779B97F4A7C15L);
    float[] x = new float[n * dimensions];
    int[] y = new int[n];
    double[] posterior = new double[n * numClasses];
    double[] point = new double[dimensions];
    for (int i = 0; i < n; i++) {
      int label = rng.nextInt(numClasses);
      for (int j = 0; j < dimensions; j++) {
        point[j] = mu[label][j] + s[label] * gaussian(rng);
        x[i * dimensions + j] = (float) point[j];
      }
      y[i] = label;
      // The posterior of the float32 point the model will see, not of the float64 draw.
      for (int j = 0; j < dimensions; j++) {
        point[j] = x[i * dimensions + j];
      }
      posterior(point, mu, s, posterior, i * numClasses);
    }
    return new Dataset(name, x, y, new long[] {dimensions}, numClasses, posterior);
  }

  /** Exact P(y|x) for one point, written to {@code out[offset .. offset + K)}. */
  public void posterior(double[] point, double[][] mu, double[] s, double[] out, int offset) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < numClasses; k++) {
      double sq = 0;
      for (int j = 0; j < dimensions; j++) {
        double diff = point[j] - mu[k][j];
        sq += diff * diff;
      }
      double logp = -dimensions * Math.log(s[k]) - sq / (2 * s[k] * s[k]);
      out[offset + k] = logp;
      max = Math.max(max, logp);
    }
    double sum = 0;
    for (int k = 0; k < numClasses; k++) {
      out[offset + k] = Math.exp(out[offset + k] - max);
      sum += out[offset + k];
    }
    for (int k = 0; k < numClasses; k++) {
      out[offset + k] /= sum;
    }
  }

  private static double gaussian(SplittableRandom rng) {
    // Box-Muller; SplittableRandom has no nextGaussian on Java 17.
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
