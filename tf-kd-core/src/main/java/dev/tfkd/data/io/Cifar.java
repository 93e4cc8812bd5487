package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the CIFAR-10 and CIFAR-100 binary versions ({@code cifar-10-batches-bin}, {@code cifar-100-binary}).
 *
 * <p>CIFAR-10 records are 3,073 bytes: the label (0..9), then 1,024 red, 1,024 green and 1,024 blue pixels, each plane
 * row-major. CIFAR-100 records are 3,074 bytes: the coarse label (0..19), the fine label (0..99), then the pixels;
 * the fine label is used. Images become {@code [32, 32, 3]} (NHWC) scaled to [0, 1]. A file whose size is not a
 * whole number of records is truncated; a label out of range names its record.
 */
public final class Cifar {
  private Cifar() {}

  private static final int PIXELS = 32 * 32;

  /** CIFAR-10 (10 classes, one label byte) or CIFAR-100 (100 fine classes, two label bytes). */
  public enum Variant {
    /** CIFAR-10: one label byte, 10 classes. */
    CIFAR10(1, 10),
    /** CIFAR-100: coarse and fine label bytes, 100 (fine) classes. */
    CIFAR100(2, 100);

    final int labelBytes;
    final int classes;

    Variant(int labelBytes, int classes) {
      this.labelBytes = labelBytes;
      this.classes = classes;
    }

    /** Bytes per record. */
    public int recordSize() {
      return labelBytes + 3 * PIXELS;
    }
  }

  /** Reads and concatenates {@code files} (e.g. {@code data_batch_1.bin .. data_batch_5.bin}). */
  public static Dataset read(List<Path> files, Variant variant, String name) {
    long total = 0;
    for (Path f : files) {
      total += records(f, variant);
    }
    if (total * 3 * PIXELS > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(name + ": " + total + " CIFAR images do not fit in one array");
    }
    Bytes.checkHeap(files.get(0), "", total * 3 * PIXELS * Float.BYTES, total + " CIFAR images");
    float[] x = new float[(int) total * 3 * PIXELS];
    int[] y = new int[(int) total];
    int at = 0;
    for (Path f : files) {
      at = readInto(f, variant, x, y, at);
    }
    return new Dataset(name, x, y, new long[] {32, 32, 3}, variant.classes, null);
  }

  /** The number of records in {@code file}; fails when the size is not a whole number of records. */
  static long records(Path file, Variant v) {
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw Bytes.cannotRead(file, e);
    }
    if (size == 0 || size % v.recordSize() != 0) {
      long whole = size / v.recordSize();
      throw new DataFormatException(
          file, "record " + whole + " (byte " + whole * v.recordSize() + ")",
          size + " bytes is not a whole number of " + v.recordSize() + "-byte " + v + " records (truncated file or"
              + " wrong format)");
    }
    return size / v.recordSize();
  }

  private static int readInto(Path file, Variant v, float[] x, int[] y, int first) {
    long n = records(file, v);
    byte[] rec = new byte[v.recordSize()];
    try (InputStream in = Files.newInputStream(file)) {
      for (int r = 0; r < n; r++) {
        if (in.readNBytes(rec, 0, rec.length) != rec.length) {
          throw new DataFormatException(file, "record " + r, "file ends inside the record (truncated)");
        }
        int i = first + r;
        y[i] = decode(file, v, rec, 0, r, (long) r * rec.length, x, i * 3 * PIXELS);
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(file, e);
    }
    return first + (int) n;
  }

  /**
   * Decodes the record at {@code rec[from ..]}: its pixels into {@code x[base .. base + 3,072)} as NHWC in [0, 1],
   * and returns its label. The one decoding of a CIFAR record, for files in memory and streamed ones.
   *
   * @param r the record's index in the file and {@code byteOffset} its offset, for messages
   */
  static int decode(Path file, Variant v, byte[] rec, int from, long r, long byteOffset, float[] x, int base) {
    int label = rec[from + v.labelBytes - 1] & 0xff;
    if (label >= v.classes) {
      throw new DataFormatException(
          file, "record " + r + " (byte " + byteOffset + ")", "label " + label + " is outside [0, " + v.classes + ") for " + v);
    }
    // The coarse label is not used, but one out of range means the record is corrupt.
    if (v == Variant.CIFAR100 && (rec[from] & 0xff) >= 20) {
      throw new DataFormatException(
          file, "record " + r + " (byte " + byteOffset + ")", "coarse label " + (rec[from] & 0xff) + " is outside [0, 20) for " + v);
    }
    int pixels = from + v.labelBytes;
    // The file stores channel planes; the models take interleaved NHWC pixels.
    for (int p = 0; p < PIXELS; p++) {
      for (int c = 0; c < 3; c++) {
        x[base + 3 * p + c] = (rec[pixels + c * PIXELS + p] & 0xff) / 255f;
      }
    }
    return label;
  }
}
