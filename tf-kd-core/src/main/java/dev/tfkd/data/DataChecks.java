package dev.tfkd.data;

/**
 * Checks on a loaded dataset that its constructor does not make, run before any training step so that bad data is
 * reported with its place instead of surfacing as a NaN loss many steps later.
 */
public final class DataChecks {
  private DataChecks() {}

  /**
   * Returns {@code data} when every feature is finite; otherwise throws naming the first example and value that is
   * NaN or infinite. One NaN feature makes every weight it reaches NaN after one gradient step.
   *
   * @throws IllegalArgumentException for a NaN or infinite feature (bad input)
   */
  public static Dataset requireFinite(Dataset data) {
    float[] x = data.features();
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        int e = data.exampleSize();
        throw new IllegalArgumentException(
            data.name() + ": example " + i / e + ", feature " + i % e + " is " + x[i]
                + " (features must be finite numbers)");
      }
    }
    return data;
  }
}
