package dev.tfkd.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A check, before a long run writes anything big, that the file system holding a directory has room for it: a run
 * that would fill the disk halfway through is refused at the start with one clear message instead.
 */
public final class DiskSpace {
  private DiskSpace() {}

  /** Bytes kept free beyond the estimate, for logs, reports and the file system's own needs. */
  public static final long MARGIN = 64L << 20;

  /**
   * Throws {@link IllegalArgumentException} when the file system of {@code dir} (or of its nearest existing
   * ancestor) has fewer than {@code bytes + MARGIN} usable bytes.
   *
   * @param what what the space is for, for the message
   */
  public static void require(Path dir, long bytes, String what) throws IOException {
    Path existing = dir.toAbsolutePath();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return;
    }
    long usable = Files.getFileStore(existing).getUsableSpace();
    if (usable < bytes + MARGIN) {
      throw new IllegalArgumentException(
          dir + ": " + mib(usable) + " free, but " + what + " need about " + mib(bytes + MARGIN)
              + "; free some space or choose another directory");
    }
  }

  /**
   * The disk a training run needs for {@code parameters} float32 weights: each checkpoint holds the weights and up
   * to two optimizer slots per weight, two checkpoints are kept while a third is staged, and the export holds the
   * weights once more.
   */
  public static long trainingRunBytes(long parameters) {
    long weights = parameters * Float.BYTES;
    return weights * 3 * 3 + weights;
  }

  private static String mib(long bytes) {
    return (bytes >> 20) + " MiB";
  }
}
