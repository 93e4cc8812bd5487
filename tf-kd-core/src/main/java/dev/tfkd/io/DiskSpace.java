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

  /** Bytes kept free beyond the estimate, for the file system's own needs (directory entries, temporary files). */
  public static final long MARGIN = 1L << 20;

  /** What a run's report takes at most: five PNG plots of 900 x 480 pixels and the HTML page. */
  public static final long REPORT_BYTES = 2L << 20;

  /** What one epoch adds to the logs at most: a JSON line, TensorBoard events and the progress of its steps. */
  public static final long LOG_BYTES_PER_EPOCH = 16L << 10;

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
    long weights = Math.multiplyExact(parameters, (long) Float.BYTES);
    return Math.addExact(Math.multiplyExact(weights, 9L), weights);
  }

  /**
   * The disk a whole training run needs, sized from the model and the data: {@link #trainingRunBytes(long)} for
   * the weights, plus the export's warm-up records ({@code warmupExamples} examples of {@code exampleFloats}
   * float32 values), the logs of {@code epochs} epochs and the report.
   */
  public static long trainingRunBytes(long parameters, int epochs, long exampleFloats, int warmupExamples) {
    long warmup = Math.multiplyExact(Math.multiplyExact(exampleFloats, (long) Float.BYTES), (long) warmupExamples);
    long logs = Math.multiplyExact((long) Math.max(epochs, 1), LOG_BYTES_PER_EPOCH);
    return Math.addExact(Math.addExact(trainingRunBytes(parameters), warmup), logs + REPORT_BYTES);
  }

  private static String mib(long bytes) {
    return (bytes >> 20) + " MiB";
  }
}
