package dev.tfkd.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Locates Fashion-MNIST (Debian's {@code dataset-fashion-mnist}: 60,000 training and 10,000 test images as gzip IDX
 * in {@code /usr/share/datasets/fashion-mnist}). A user's machine may not have it: tests that use it skip.
 */
public final class FashionMnist {
  private FashionMnist() {}

  /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
  public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** The folder holding {@code {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz}, if all four are there. */
  public static Optional<Path> find() {
    for (String f : new String[] {
      "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
    }) {
      if (!Files.isRegularFile(DEFAULT_DIR.resolve(f))) {
        return Optional.empty();
      }
    }
    return Optional.of(DEFAULT_DIR);
  }
}
