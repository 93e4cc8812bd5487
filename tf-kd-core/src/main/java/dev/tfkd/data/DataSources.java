package dev.tfkd.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Opens a dataset named on the command line: a built-in name (no download) or a file path.
 *
 * <p>Built-in data: {@code gmm} (the demo's 10-class Gaussian mixture in 20 dimensions with known posterior;
 * 20,000 training and 5,000 test examples).
 */
public final class DataSources {
  private DataSources() {}

  /** Which part of a built-in dataset to produce; files ignore it (pass separate files for train and test). */
  public enum Split {
    TRAIN,
    TEST
  }

  private static final Map<String, Function<Split, Dataset>> BUILTIN = new LinkedHashMap<>();

  static {
    BUILTIN.put(
        "gmm",
        split ->
            split == Split.TRAIN
                ? GaussianMixture.demo().sample(20_000, 1, "gmm-train")
                : GaussianMixture.demo().sample(5_000, 1_000_004L, "gmm-test"));
  }

  /** Built-in dataset names. */
  public static java.util.Set<String> builtinNames() {
    return java.util.Collections.unmodifiableSet(BUILTIN.keySet());
  }

  /**
   * Loads {@code spec}: a built-in name, or a path to a file or folder in a supported format.
   *
   * @param format the file format, or {@code null} to detect it from the file
   */
  public static Dataset load(String spec, String format, Split split) {
    Function<Split, Dataset> builtin = BUILTIN.get(spec);
    if (builtin != null) {
      return builtin.apply(split);
    }
    Path path = Path.of(spec);
    if (!Files.exists(path)) {
      throw new IllegalArgumentException(
          spec + ": no such file, and not a built-in dataset (built-in: " + String.join(", ", BUILTIN.keySet()) + ")");
    }
    throw new IllegalArgumentException(spec + ": no reader for this file" + (format == null ? "" : " (format " + format + ")"));
  }
}
