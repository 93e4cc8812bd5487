package dev.tfkd.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * Examples to predict for, labelled or not: what {@code tfkd predict} reads. A {@link Dataset} always has labels;
 * data to be classified (a CSV without a label column, TFRecords of {@code tf.Example}s holding only the feature
 * {@code x}) has none.
 *
 * @param name where the examples come from, for messages
 * @param features the examples, row-major, {@code size * exampleSize} values (not copied; may hold non-finite values
 *     when they were read with them allowed)
 * @param exampleShape the shape of one example
 * @param labels one label per example, or {@code null} for unlabelled data
 */
public record Examples(String name, float[] features, long[] exampleShape, int[] labels) {
  /** Checks that the features make whole examples and that there is one label per example. */
  public Examples {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(features, "features");
    long e = 1;
    for (long d : exampleShape) {
      if (d < 1) {
        throw new IllegalArgumentException(name + ": bad example shape " + Arrays.toString(exampleShape));
      }
      e *= d;
    }
    if (features.length % e != 0) {
      throw new IllegalArgumentException(
          name + ": " + features.length + " values do not make whole examples of shape " + Arrays.toString(exampleShape));
    }
    if (labels != null && labels.length != features.length / e) {
      throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + features.length / e + " examples");
    }
  }

  /**
   * The examples of a labelled dataset.
   *
   * @param d the dataset
   * @return its examples and labels
   */
  public static Examples of(Dataset d) {
    return new Examples(d.name(), d.features(), d.exampleShape(), d.labels());
  }

  /**
   * Values per example.
   *
   * @return the product of the example shape
   */
  public int exampleSize() {
    long e = 1;
    for (long d : exampleShape) {
      e *= d;
    }
    return Math.toIntExact(e);
  }

  /**
   * The number of examples.
   *
   * @return the number of examples
   */
  public int size() {
    return features.length / exampleSize();
  }

  /**
   * Whether every example has a label.
   *
   * @return true when labelled
   */
  public boolean labelled() {
    return labels != null;
  }
}
