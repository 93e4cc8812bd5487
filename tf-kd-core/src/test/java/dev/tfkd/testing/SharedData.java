package dev.tfkd.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Locates the shared real datasets (absent on a user's machine: tests that use them skip). */
public final class SharedData {
  private SharedData() {}

  /**
   * The folder {@code shared/datasets/mnist-10k} (MNIST's 10,000 test images as gzip IDX), found by walking up from
   * the working directory, if it exists.
   */
  public static Optional<Path> mnist10k() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared/datasets/mnist-10k");
      if (Files.isRegularFile(candidate.resolve("t10k-images-idx3-ubyte.gz"))) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * The version directories of the real SavedModels in {@code shared/savedmodels} (Keras and TensorFlow Serving
   * exports, see its README), found as {@link #mnist10k()} is; empty when absent.
   */
  public static java.util.List<Path> savedModels() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path root = p.resolve("shared/savedmodels");
      if (Files.isDirectory(root)) {
        try (var all = Files.walk(root, 3)) {
          return all.filter(d -> Files.isRegularFile(d.resolve("saved_model.pb"))).sorted().toList();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    }
    return java.util.List.of();
  }
}
