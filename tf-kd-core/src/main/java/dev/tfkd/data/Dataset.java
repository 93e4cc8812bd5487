package dev.tfkd.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * An in-memory labelled dataset: {@code size} examples of shape {@code exampleShape}, stored row-major in one
 * {@code float[]}, with integer labels in {@code [0, numClasses)}.
 *
 * <p>Immutable by convention: the arrays are not copied, so callers must not modify them after construction.
 * An optional {@code posterior} ({@code size x numClasses}, row-major, doubles) holds the exact Bayes
 * conditional distribution P(y|x) when the data is synthetic and it is known; it is {@code null} otherwise.
 *
 * @param name where the data came from, for messages and provenance
 * @param features {@code size * exampleSize()} values, example after example
 * @param labels {@code size} class indices
 * @param exampleShape the shape of one example, e.g. {@code [20]} or {@code [28, 28, 1]}
 * @param numClasses the number of classes K
 * @param posterior the exact P(y|x), {@code size * numClasses} values, or {@code null} if unknown
 */
public record Dataset(
    String name, float[] features, int[] labels, long[] exampleShape, int numClasses, double[] posterior) {

  /**
   * Validates the components; throws NullPointerException for a missing one and IllegalArgumentException when sizes
   * disagree.
   */
  public Dataset {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(labels, "labels");
    Objects.requireNonNull(exampleShape, "exampleShape");
    if (numClasses < 1) {
      throw new IllegalArgumentException(name + ": numClasses must be >= 1, got " + numClasses);
    }
    long exampleSize = 1;
    for (long d : exampleShape) {
      if (d < 1) {
        throw new IllegalArgumentException(name + ": bad example shape " + Arrays.toString(exampleShape));
      }
      exampleSize *= d;
    }
    if ((long) labels.length * exampleSize != features.length) {
      throw new IllegalArgumentException(
          name + ": " + features.length + " feature values do not make " + labels.length
              + " examples of shape " + Arrays.toString(exampleShape));
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= numClasses) {
        throw new IllegalArgumentException(
            name + ": example " + i + " has label " + labels[i] + ", outside [0, " + numClasses + ")");
      }
    }
    if (posterior != null && posterior.length != (long) labels.length * numClasses) {
      throw new IllegalArgumentException(name + ": posterior has the wrong size");
    }
  }

  /** Number of examples. */
  public int size() {
    return labels.length;
  }

  /** Number of float values in one example. */
  public int exampleSize() {
    return labels.length == 0 ? (int) product(exampleShape) : features.length / labels.length;
  }

  /** Whether the exact Bayes posterior P(y|x) is known for every example. */
  public boolean hasPosterior() {
    return posterior != null;
  }

  /** The examples at {@code indices}, in that order, as a new dataset (posterior included if known). */
  public Dataset select(int[] indices, String newName) {
    int e = exampleSize();
    float[] x = new float[indices.length * e];
    int[] y = new int[indices.length];
    double[] post = posterior == null ? null : new double[indices.length * numClasses];
    for (int i = 0; i < indices.length; i++) {
      int src = indices[i];
      System.arraycopy(features, src * e, x, i * e, e);
      y[i] = labels[src];
      if (post != null) {
        System.arraycopy(posterior, src * numClasses, post, i * numClasses, numClasses);
      }
    }
    return new Dataset(newName, x, y, exampleShape.clone(), numClasses, post);
  }

  /** Count of examples per class. */
  public int[] classCounts() {
    int[] counts = new int[numClasses];
    for (int label : labels) {
      counts[label]++;
    }
    return counts;
  }

  private static long product(long[] shape) {
    long p = 1;
    for (long d : shape) {
      p *= d;
    }
    return p;
  }
}
