package dev.tfkd.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Locates Fashion-MNIST (60,000 + 10,000 gzip IDX files) where the Debian package {@code dataset-fashion-mnist}
 * installs it; absent on most users' machines, so tests that use it skip.
 */
public final class FashionMnist {
  /** Where the package puts the files. */
  public static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");

  private FashionMnist() {}

  /** The folder, if it holds the four files. */
  public static Optional<Path> dir() {
    for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz"}) {
      if (!Files.isRegularFile(DIR.resolve(f))) {
        return Optional.empty();
      }
    }
    return Optional.of(DIR);
  }
}
