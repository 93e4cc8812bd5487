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
    return find("datasets/mnist-10k").filter(d -> Files.isRegularFile(d.resolve("t10k-images-idx3-ubyte.gz")));
  }

  /**
   * {@code shared/<relative>} (a file or folder), found in the nearest {@code shared} folder beside the working
   * directory or one of its parents, if it exists.
   */
  public static Optional<Path> find(String relative) {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve("shared").resolve(relative);
      if (Files.exists(candidate)) {
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
    Optional<Path> root = find("savedmodels").filter(Files::isDirectory);
    if (root.isEmpty()) {
      return java.util.List.of();
    }
    try (var all = Files.walk(root.get(), 3)) {
      return all.filter(d -> Files.isRegularFile(d.resolve("saved_model.pb"))).sorted().toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
