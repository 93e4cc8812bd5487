package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads IDX files (the format of MNIST, Fashion-MNIST, KMNIST, EMNIST), raw or gzip-compressed.
 *
 * <p>Header: two zero bytes, a type byte ({@code 0x08} unsigned byte, {@code 0x09} signed byte, {@code 0x0B}
 * int16, {@code 0x0C} int32, {@code 0x0D} float32, {@code 0x0E} float64), the number of dimensions, then each
 * dimension as a big-endian int32; the data follows, big-endian, row-major.
 *
 * <p>Pairs: a dataset is named by its images file; the labels file is found beside it by replacing {@code -images-}
 * with {@code -labels-} and {@code idx3}/{@code idx4} with {@code idx1} (also with {@code .} before {@code idx}),
 * keeping a {@code .gz} suffix if the labels file has it: {@code train-images-idx3-ubyte.gz} pairs with
 * {@code train-labels-idx1-ubyte.gz} (or the uncompressed {@code train-labels-idx1-ubyte}). Images of 3 dimensions
 * {@code [n, rows, cols]} become {@code [rows, cols, 1]}; of 4 dimensions {@code [n, rows, cols, channels]} stay
 * {@code [rows, cols, channels]}. Unsigned-byte pixels are scaled to [0, 1]; other types are taken as they are.
 * Labels are one-dimensional integers; the class count is the largest label plus one unless given.
 */
public final class IdxReader {
  private IdxReader() {}

  /** The decoded contents of one IDX file. */
  record Array(int[] dims, float[] values, boolean unsignedBytes) {}

  /** Whether {@code head} (the first bytes, decompressed) looks like an IDX header. */
  public static boolean looksLikeIdx(byte[] head) {
    return head.length >= 4 && head[0] == 0 && head[1] == 0 && elementSize(head[2]) > 0 && head[3] >= 1 && head[3] <= 8;
  }

  /** The labels file paired with {@code imagesFile} by the naming convention above. */
  public static Path labelsFileFor(Path imagesFile) {
    String name = imagesFile.getFileName().toString();
    String base = name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    String labels = base.replaceFirst("([-._])images([-._])idx[34]", "$1labels$2idx1");
    if (labels.equals(base)) {
      throw new IllegalArgumentException(
          imagesFile + ": cannot find the labels file: the name should contain '-images-idx3' (or idx4), e.g."
              + " train-images-idx3-ubyte.gz, whose labels are train-labels-idx1-ubyte.gz beside it");
    }
    Path dir = imagesFile.toAbsolutePath().getParent();
    for (String candidate : new String[] {labels + ".gz", labels}) {
      if (Files.isRegularFile(dir.resolve(candidate))) {
        return dir.resolve(candidate);
      }
    }
    throw new IllegalArgumentException(
        imagesFile + ": labels file " + dir.resolve(labels) + "[.gz] not found (IDX images are paired with the labels"
            + " file beside them)");
  }

  /** Reads the images file and its labels file (found by the naming convention). */
  public static Dataset read(Path imagesFile, int numClasses) {
    return read(imagesFile, labelsFileFor(imagesFile), numClasses);
  }

  /**
   * Reads an images file and a labels file.
   *
   * @param numClasses the class count, or 0 to use the largest label plus one
   */
  public static Dataset read(Path imagesFile, Path labelsFile, int numClasses) {
    Array images = readArray(imagesFile, true);
    Array labels = readArray(labelsFile);
    if (images.dims.length != 3 && images.dims.length != 4) {
      throw new DataFormatException(
          imagesFile, "header", "images must have 3 or 4 dimensions [n, rows, cols(, channels)], got " + images.dims.length);
    }
    if (labels.dims.length != 1) {
      throw new DataFormatException(labelsFile, "header", "labels must have 1 dimension, got " + labels.dims.length);
    }
    int n = images.dims[0];
    if (labels.dims[0] != n) {
      throw new DataFormatException(
          labelsFile, "header", labels.dims[0] + " labels for " + n + " images in " + imagesFile);
    }
    int[] y = new int[n];
    int max = -1;
    for (int i = 0; i < n; i++) {
      float v = labels.values[i];
      if (v < 0 || v != Math.rint(v) || v >= Labels.bound(numClasses)) {
        throw new DataFormatException(
            labelsFile, "label " + i, "label " + v + " is not a class in [0, " + Labels.bound(numClasses) + ")");
      }
      y[i] = (int) v;
      max = Math.max(max, y[i]);
    }
    float[] x = images.values;
    if (images.unsignedBytes) {
      for (int i = 0; i < x.length; i++) {
        x[i] /= 255f;
      }
    }
    long[] shape =
        images.dims.length == 3
            ? new long[] {images.dims[1], images.dims[2], 1}
            : new long[] {images.dims[1], images.dims[2], images.dims[3]};
    int k = numClasses > 0 ? numClasses : Math.max(1, max + 1);
    return new Dataset(imagesFile.getFileName().toString(), x, y, shape, k, null);
  }

  /** Reads one IDX file of any type into floats. */
  static Array readArray(Path file) {
    return readArray(file, false);
  }

  /** @param images whether {@code file} holds images, where no dimension may be 0 */
  private static Array readArray(Path file, boolean images) {
    boolean gzip = Bytes.isGzip(file);
    try (InputStream in = Bytes.open(file)) {
      byte[] magic = in.readNBytes(4);
      if (magic.length < 4) {
        throw new DataFormatException(file, "byte 0", "file too short for an IDX header (" + magic.length + " bytes)");
      }
      if (!looksLikeIdx(magic)) {
        throw new DataFormatException(
            file, "byte 0", String.format("wrong magic number 0x%02x%02x%02x%02x for IDX (expected 00 00 <type 08..0e> <dims>)",
                magic[0], magic[1], magic[2], magic[3]));
      }
      int type = magic[2] & 0xff;
      int ndims = magic[3];
      byte[] dimBytes = in.readNBytes(4 * ndims);
      if (dimBytes.length < 4 * ndims) {
        throw new DataFormatException(file, "byte " + (4 + dimBytes.length), "file ends inside the IDX header (truncated)");
      }
      ByteBuffer db = ByteBuffer.wrap(dimBytes);
      int[] dims = new int[ndims];
      long count = 1;
      for (int i = 0; i < ndims; i++) {
        dims[i] = db.getInt();
        if (dims[i] < 0) {
          throw new DataFormatException(file, "byte " + (4 + 4 * i), "negative dimension " + dims[i]);
        }
        count *= dims[i];
        if (count > Integer.MAX_VALUE - 16) {
          throw new DataFormatException(file, "header", "declares more than 2^31 values");
        }
      }
      for (int i = 0; images && i < ndims; i++) {
        // A zero dimension declares no data at all: an empty dataset or an example with no values. Checked before
        // the data, which would otherwise all be reported as bytes after the (empty) declared data.
        if (dims[i] == 0) {
          throw new DataFormatException(
              file, "byte " + (4 + 4 * i), "dimension " + i + " of the images is 0 (an empty or corrupt header)");
        }
      }
      int es = elementSize(magic[2]);
      long offset = 4 + 4L * ndims;
      // The bytes read (grown, then copied out) and the floats made of them must fit. A raw file too short for
      // its header is reported as truncated by readDeclared, without this check or any allocation.
      if (gzip || offset + count * es <= Files.size(file)) {
        Bytes.checkHeap(file, "header", count * (2L * es + Float.BYTES), "the " + count + " values the header declares");
      }
      byte[] data = Bytes.readDeclared(in, file, gzip, offset, count * es, "the IDX header");
      float[] values = new float[(int) count];
      ByteBuffer b = ByteBuffer.wrap(data);
      for (int i = 0; i < values.length; i++) {
        values[i] =
            switch (type) {
              case 0x08 -> b.get() & 0xff;
              case 0x09 -> b.get();
              case 0x0B -> b.getShort();
              case 0x0C -> b.getInt();
              case 0x0D -> b.getFloat();
              default -> (float) b.getDouble();
            };
      }
      if (type == 0x0D || type == 0x0E) {
        for (int i = 0; i < values.length; i++) {
          if (!Float.isFinite(values[i])) {
            throw new DataFormatException(file, "value " + i, "not a finite number: " + values[i]);
          }
        }
      }
      return new Array(dims, values, type == 0x08);
    } catch (IOException e) {
      // GZIPInputStream reports corruption as ZipException or EOFException with terse messages; say what it means.
      throw new DataFormatException(
          file, "", (gzip ? "corrupt or truncated gzip data: " : "cannot read: ") + e.getMessage(), e);
    }
  }

  static int elementSize(byte type) {
    return switch (type & 0xff) {
      case 0x08, 0x09 -> 1;
      case 0x0B -> 2;
      case 0x0C, 0x0D -> 4;
      case 0x0E -> 8;
      default -> 0;
    };
  }
}
