package dev.tfkd.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Teacher logits by example index, {@code size x K}: in a heap array, or in a {@link TeacherLogitCache} file read
 * through memory maps, so logits larger than the heap are read row by row as batches need them (the operating
 * system pages them in and out). Immutable; reads are thread-safe.
 */
public final class LogitTable {
  // Rows are mapped in chunks of at most 1 GiB (a single map is limited to 2 GiB).
  private static final long CHUNK_BYTES = 1L << 30;

  private final long size;
  private final int numClasses;
  private final float[] array;
  private final List<FloatBuffer> chunks;
  private final long rowsPerChunk;

  private LogitTable(long size, int numClasses, float[] array, List<FloatBuffer> chunks, long rowsPerChunk) {
    this.size = size;
    this.numClasses = numClasses;
    this.array = array;
    this.chunks = chunks;
    this.rowsPerChunk = rowsPerChunk;
  }

  /**
   * Logits held in {@code logits} ({@code logits.length / numClasses} rows), not copied.
   *
   * @param logits the rows, row-major
   * @param numClasses K
   * @return the table
   */
  public static LogitTable of(float[] logits, int numClasses) {
    Objects.requireNonNull(logits, "logits");
    if (numClasses < 1 || logits.length % numClasses != 0) {
      throw new IllegalArgumentException(logits.length + " logits are not rows of " + numClasses);
    }
    return new LogitTable(logits.length / numClasses, numClasses, logits, null, 0);
  }

  /**
   * The rows stored as little-endian float32 in {@code file} from byte {@code start} on, mapped read-only.
   *
   * @param size rows
   * @param numClasses K
   * @return the table
   * @throws UncheckedIOException when the file cannot be mapped
   */
  static LogitTable mapped(Path file, long start, long size, int numClasses) {
    long rowBytes = 4L * numClasses;
    long rowsPerChunk = Math.max(1, CHUNK_BYTES / rowBytes);
    List<FloatBuffer> chunks = new ArrayList<>();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      for (long row = 0; row < size; row += rowsPerChunk) {
        long rows = Math.min(rowsPerChunk, size - row);
        chunks.add(
            ch.map(FileChannel.MapMode.READ_ONLY, start + row * rowBytes, rows * rowBytes)
                .order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot map the teacher logits in " + file + ": " + e.getMessage(), e);
    }
    return new LogitTable(size, numClasses, null, List.copyOf(chunks), rowsPerChunk);
  }

  /** Rows (examples). */
  public long size() {
    return size;
  }

  /** K: values per row. */
  public int numClasses() {
    return numClasses;
  }

  /** Whether the rows live on disk (memory-mapped) rather than in the heap. */
  public boolean onDisk() {
    return array == null;
  }

  /**
   * Copies row {@code index} into {@code dst[offset .. offset + K)}.
   *
   * @throws IndexOutOfBoundsException for an index outside [0, size)
   */
  public void read(long index, float[] dst, int offset) {
    Objects.checkIndex(index, size);
    if (array != null) {
      System.arraycopy(array, (int) (index * numClasses), dst, offset, numClasses);
      return;
    }
    FloatBuffer chunk = chunks.get((int) (index / rowsPerChunk));
    // The absolute bulk get leaves the buffer's position alone, so concurrent readers do not interfere.
    chunk.get((int) ((index % rowsPerChunk) * numClasses), dst, offset, numClasses);
  }

  /**
   * SHA-256 (hex) of all rows as float32 little-endian, equal to {@code Manifest.fingerprint(float[])} of the same
   * values: the teacher's logits in an export's manifest.
   */
  public String sha256() {
    MessageDigest md = FrozenTeacher.sha256();
    float[] row = new float[numClasses];
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(Math.max(4096, 4 * numClasses)).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < size; i++) {
      read(i, row, 0);
      if (buf.remaining() < 4 * numClasses) {
        md.update(buf.array(), 0, buf.position());
        buf.clear();
      }
      for (float f : row) {
        buf.putFloat(f);
      }
    }
    md.update(buf.array(), 0, buf.position());
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * The share of rows whose largest logit is at {@code labels.applyAsInt(row)}: the teacher's accuracy.
   *
   * @param labels the label of each row
   * @return correct rows divided by {@link #size()}
   */
  public double accuracy(java.util.function.LongToIntFunction labels) {
    float[] row = new float[numClasses];
    long correct = 0;
    for (long i = 0; i < size; i++) {
      read(i, row, 0);
      int best = 0;
      for (int c = 1; c < numClasses; c++) {
        if (row[c] > row[best]) {
          best = c;
        }
      }
      correct += best == labels.applyAsInt(i) ? 1 : 0;
    }
    return size == 0 ? 0 : (double) correct / size;
  }
}
