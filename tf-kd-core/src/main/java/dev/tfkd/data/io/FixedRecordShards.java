package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * IDX and CIFAR files read as a stream of fixed-size records, by offset: record {@code i} of a shard starts at
 * {@code header + i * recordSize}, so a resumed stream seeks straight to it. Records decode exactly as the
 * in-memory readers decode them ({@link IdxReader}: unsigned bytes scaled to [0, 1], other types as they are;
 * {@link Cifar}: channel planes to NHWC in [0, 1]).
 *
 * <p>IDX: each images file is a shard, paired with its labels file by {@link IdxReader#labelsFileFor}; a streamed
 * record is the image's bytes followed by its label's. Opening checks both headers and that each file holds exactly
 * the data its header declares (a truncated file or trailing bytes are refused naming the byte offset), and reads
 * every label (one to eight bytes each) to check it and, unless the class count is given, to take the largest label
 * plus one, as the in-memory reader does. Gzip-compressed IDX files cannot be streamed: a compressed stream has no
 * offsets to resume from, so they are refused with a message to decompress them ({@code gunzip -k}); below the
 * streaming threshold they are read into memory as before.
 *
 * <p>CIFAR: each binary batch file is a shard of 3,073-byte (CIFAR-10) or 3,074-byte (CIFAR-100) records; a size
 * that is not a whole number of records is refused. Labels are checked as each record is decoded.
 */
public final class FixedRecordShards extends RecordShards {
  private final Cifar.Variant variant;
  private final Idx images;
  private final List<Path> labelFiles;
  private final Idx labels;
  private final int recordSize;
  private final int header;

  private FixedRecordShards(
      String spec, String kind, List<Path> files, long[] sizes, long[] counts, Dataset sample, int numClasses,
      Cifar.Variant variant, Idx images, List<Path> labelFiles, Idx labels) {
    super(spec, kind, files, sizes, counts, sample, numClasses);
    this.variant = variant;
    this.images = images;
    this.labelFiles = labelFiles;
    this.labels = labels;
    this.recordSize = variant != null ? variant.recordSize() : images.recordBytes();
    this.header = variant != null ? 0 : images.headerBytes();
  }

  /** The parts of an IDX header that matter here: element type and size, dimensions. */
  private record Idx(int type, int elementSize, int[] dims) {
    int headerBytes() {
      return 4 + 4 * dims.length;
    }

    /** Bytes of one record: the product of the dimensions after the first, times the element size. */
    int recordBytes() {
      long n = elementSize;
      for (int i = 1; i < dims.length; i++) {
        n *= dims[i];
      }
      return (int) n;
    }

    long declaredBytes() {
      return (long) dims[0] * recordBytes();
    }
  }

  /** Opens IDX images files (each with its labels file beside it) as a stream. */
  static FixedRecordShards idx(String spec, List<Path> files, int numClasses) {
    long[] sizes = new long[files.size()];
    long[] counts = new long[files.size()];
    List<Path> labelFiles = new ArrayList<>();
    Idx first = null;
    Idx firstLabels = null;
    int max = -1;
    for (int s = 0; s < files.size(); s++) {
      Path f = files.get(s);
      Path lf = IdxReader.labelsFileFor(f);
      for (Path p : new Path[] {f, lf}) {
        if (Bytes.isGzip(p)) {
          throw new DataFormatException(
              p, "byte 0", "gzip-compressed IDX files cannot be streamed (a resumed run reads records by offset);"
                  + " decompress it first (gunzip -k)");
        }
      }
      Idx im = header(f, true);
      Idx lb = header(lf, false);
      if (im.dims.length != 3 && im.dims.length != 4) {
        throw new DataFormatException(
            f, "header", "images must have 3 or 4 dimensions [n, rows, cols(, channels)], got " + im.dims.length);
      }
      if (lb.dims.length != 1) {
        throw new DataFormatException(lf, "header", "labels must have 1 dimension, got " + lb.dims.length);
      }
      if (lb.dims[0] != im.dims[0]) {
        throw new DataFormatException(lf, "header", lb.dims[0] + " labels for " + im.dims[0] + " images in " + f);
      }
      if (first == null) {
        first = im;
        firstLabels = lb;
      } else if (im.type != first.type || !Arrays.equals(Arrays.copyOfRange(im.dims, 1, im.dims.length),
          Arrays.copyOfRange(first.dims, 1, first.dims.length))) {
        throw new DataFormatException(
            f, "header", "images of type 0x" + Integer.toHexString(im.type) + " and shape " + Arrays.toString(im.dims)
                + " but " + files.get(0) + " has 0x" + Integer.toHexString(first.type) + " " + Arrays.toString(first.dims));
      } else if (lb.type != firstLabels.type) {
        throw new DataFormatException(lf, "header", "labels of another type than those of " + files.get(0));
      }
      checkSize(f, im);
      checkSize(lf, lb);
      max = Math.max(max, scanLabels(lf, lb, numClasses));
      sizes[s] = size(f);
      counts[s] = im.dims[0];
      labelFiles.add(lf);
    }
    int k = numClasses > 0 ? numClasses : Math.max(1, max + 1);
    long[] shape =
        first.dims.length == 3
            ? new long[] {first.dims[1], first.dims[2], 1}
            : new long[] {first.dims[1], first.dims[2], first.dims[3]};
    Idx im = first;
    Idx lb = firstLabels;
    Dataset sample =
        sample(spec, files, counts, shape, k, im.recordBytes() + lb.elementSize,
            (s, i) -> {
              byte[] rec = new byte[im.recordBytes() + lb.elementSize];
              readFully(files.get(s), im.headerBytes() + (long) i * im.recordBytes(), rec, 0, im.recordBytes());
              readFully(labelFiles.get(s), lb.headerBytes() + (long) i * lb.elementSize, rec, im.recordBytes(), lb.elementSize);
              return rec;
            },
            (s, i, rec, x, at) -> decodeIdx(files.get(s), labelFiles.get(s), im, lb, rec, 0, i, x, at, k));
    return new FixedRecordShards(spec, "idx", files, sizes, counts, sample, k, null, im, labelFiles, lb);
  }

  /** Opens CIFAR binary batch files as a stream. */
  static FixedRecordShards cifar(String spec, List<Path> files, Cifar.Variant v, int numClasses) {
    long[] sizes = new long[files.size()];
    long[] counts = new long[files.size()];
    for (int s = 0; s < files.size(); s++) {
      counts[s] = Cifar.records(files.get(s), v);
      sizes[s] = size(files.get(s));
    }
    int k = numClasses > 0 ? numClasses : v.classes;
    Dataset sample =
        sample(spec, files, counts, new long[] {32, 32, 3}, k, v.recordSize(),
            (s, i) -> {
              byte[] rec = new byte[v.recordSize()];
              readFully(files.get(s), (long) i * v.recordSize(), rec, 0, rec.length);
              return rec;
            },
            (s, i, rec, x, at) -> Cifar.decode(files.get(s), v, rec, 0, i, (long) i * v.recordSize(), x, at));
    return new FixedRecordShards(spec, v.name().toLowerCase(java.util.Locale.ROOT), files, sizes, counts, sample, k, v, null, null, null);
  }

  @Override
  int parse(byte[] data, int from, int length, long index, long offset, float[] x, int at) {
    int shard = shardOf(index);
    Path f = shards().get(shard);
    long r = index - firstIndex(shard);
    if (length != recordSize + (labels == null ? 0 : labels.elementSize)) {
      throw new DataFormatException(f, place(shard, index, offset), "record of " + length + " bytes, expected " + recordSize);
    }
    int label =
        variant != null
            ? Cifar.decode(f, variant, data, from, r, offset, x, at)
            : decodeIdx(f, labelFiles.get(shard), images, labels, data, from, r, x, at, numClasses());
    return checkLabel(shard, index, offset, label);
  }

  @Override
  Cursor cursor(int shard, long offset, int record) throws IOException {
    Path f = shards().get(shard);
    long start = offset == 0 && record == 0 ? header : offset;
    if (start != header + (long) record * recordSize) {
      throw new DataFormatException(
          f, "byte " + offset, "the saved stream position (record " + record + ") is not a record boundary of this file");
    }
    InputStream main = open(f, start);
    InputStream lab;
    try {
      lab = labels == null ? null : open(labelFiles.get(shard), labels.headerBytes() + (long) record * labels.elementSize);
    } catch (IOException | RuntimeException e) {
      main.close();
      throw e;
    }
    int labelBytes = labels == null ? 0 : labels.elementSize;
    long count = count(shard);
    return new Cursor() {
      long at = start;
      int rec = record;

      @Override
      public byte[] next(byte[] reuse) throws IOException {
        if (rec >= count) {
          return null;
        }
        byte[] d = reuse != null && reuse.length >= recordSize + labelBytes ? reuse : new byte[recordSize + labelBytes];
        if (main.readNBytes(d, 0, recordSize) != recordSize
            || (lab != null && lab.readNBytes(d, recordSize, labelBytes) != labelBytes)) {
          throw new DataFormatException(
              f, "record " + rec + " (byte " + at + ")", "file ends inside the record (truncated while the run read it?)");
        }
        at += recordSize;
        rec++;
        return d;
      }

      @Override
      public int length() {
        return recordSize + labelBytes;
      }

      @Override
      public long offset() {
        return at;
      }

      @Override
      public int record() {
        return rec;
      }

      @Override
      public void close() {
        for (InputStream in : new InputStream[] {main, lab}) {
          if (in != null) {
            try {
              in.close();
            } catch (IOException ignored) {
              // Read-only: nothing is lost when closing fails.
            }
          }
        }
      }
    };
  }

  private static InputStream open(Path f, long position) throws IOException {
    FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
    ch.position(position);
    return new BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
  }

  /** Decodes one IDX record (image bytes, then label bytes) as {@link IdxReader} does; returns the label. */
  private static int decodeIdx(
      Path file, Path labelFile, Idx im, Idx lb, byte[] rec, int from, long r, float[] x, int at, int numClasses) {
    ByteBuffer b = ByteBuffer.wrap(rec, from, im.recordBytes() + lb.elementSize);
    int n = im.recordBytes() / im.elementSize;
    for (int i = 0; i < n; i++) {
      float v = value(b, im.type);
      if ((im.type == 0x0D || im.type == 0x0E) && !Float.isFinite(v)) {
        throw new DataFormatException(
            file, "record " + r + " (byte " + (im.headerBytes() + r * im.recordBytes()) + "), value " + i, "not a finite number: " + v);
      }
      // Unsigned-byte pixels are scaled as the in-memory reader scales them (the same division, the same floats).
      x[at + i] = im.type == 0x08 ? v / 255f : v;
    }
    float v = value(b, lb.type);
    return label(labelFile, lb, r, v, numClasses);
  }

  private static int label(Path labelFile, Idx lb, long r, float v, int numClasses) {
    if (v < 0 || v != Math.rint(v) || v >= Labels.bound(numClasses)) {
      throw new DataFormatException(
          labelFile, "label " + r + " (byte " + (lb.headerBytes() + r * lb.elementSize) + ")",
          "label " + v + " is not a class in [0, " + Labels.bound(numClasses) + ")");
    }
    return (int) v;
  }

  private static float value(ByteBuffer b, int type) {
    return switch (type) {
      case 0x08 -> b.get() & 0xff;
      case 0x09 -> b.get();
      case 0x0B -> b.getShort();
      case 0x0C -> b.getInt();
      case 0x0D -> b.getFloat();
      default -> (float) b.getDouble();
    };
  }

  /** Reads every label of {@code lf} to check it; returns the largest. */
  private static int scanLabels(Path lf, Idx lb, int numClasses) {
    int max = -1;
    byte[] one = new byte[lb.elementSize];
    try (InputStream in = open(lf, lb.headerBytes())) {
      for (long r = 0; r < lb.dims[0]; r++) {
        if (in.readNBytes(one, 0, one.length) != one.length) {
          throw new DataFormatException(lf, "byte " + (lb.headerBytes() + r * lb.elementSize), "file ends early (truncated)");
        }
        max = Math.max(max, label(lf, lb, r, value(ByteBuffer.wrap(one), lb.type), numClasses));
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(lf, e);
    }
    return max;
  }

  private static Idx header(Path f, boolean images) {
    byte[] head = Bytes.head(f, 4 + 4 * 8);
    if (head.length < 4) {
      throw new DataFormatException(f, "byte 0", "file too short for an IDX header (" + head.length + " bytes)");
    }
    if (!IdxReader.looksLikeIdx(head)) {
      throw new DataFormatException(
          f, "byte 0", String.format("wrong magic number 0x%02x%02x%02x%02x for IDX (expected 00 00 <type 08..0e> <dims>)",
              head[0], head[1], head[2], head[3]));
    }
    int ndims = head[3];
    if (head.length < 4 + 4 * ndims) {
      throw new DataFormatException(f, "byte " + head.length, "file ends inside the IDX header (truncated)");
    }
    ByteBuffer db = ByteBuffer.wrap(head, 4, 4 * ndims);
    int[] dims = new int[ndims];
    long record = IdxReader.elementSize(head[2]);
    for (int i = 0; i < ndims; i++) {
      dims[i] = db.getInt();
      if (dims[i] < 0 || (images && dims[i] == 0)) {
        throw new DataFormatException(f, "byte " + (4 + 4 * i), "dimension " + i + " is " + dims[i] + " (an empty or corrupt header)");
      }
      if (i > 0) {
        record *= dims[i];
        if (record > Integer.MAX_VALUE - 16) {
          throw new DataFormatException(f, "header", "one record declares more than 2^31 bytes");
        }
      }
    }
    return new Idx(head[2] & 0xff, IdxReader.elementSize(head[2]), dims);
  }

  /** Refuses a file that holds more or less than its header declares, naming the byte where it goes wrong. */
  private static void checkSize(Path f, Idx h) {
    long size = size(f);
    long declared = h.declaredBytes();
    long end = h.headerBytes() + declared;
    if (size < end) {
      long whole = (size - h.headerBytes()) / Math.max(1, h.recordBytes());
      throw new DataFormatException(
          f, "record " + whole + " (byte " + (h.headerBytes() + whole * h.recordBytes()) + ")",
          "the header declares " + declared + " bytes of data but the file holds only " + (size - h.headerBytes())
              + " (truncated file or wrong header)");
    }
    if (size > end) {
      throw new DataFormatException(
          f, "byte " + end, (size - end) + " bytes after the " + declared + " bytes of data the header declares"
              + " (a wrong header, or two files joined)");
    }
  }

  private static long size(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      throw Bytes.cannotRead(f, e);
    }
  }

  private static void readFully(Path f, long position, byte[] into, int at, int n) {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.wrap(into, at, n);
      while (b.hasRemaining()) {
        if (ch.read(b, position + (n - b.remaining())) < 0) {
          throw new DataFormatException(f, "byte " + (position + n - b.remaining()), "file ends early (truncated)");
        }
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(f, e);
    }
  }

  /** Reads record {@code i} of shard {@code s}. */
  private interface RecordAt {
    byte[] read(int s, int i);
  }

  /** Decodes a record into {@code x[at ..]} and returns its label. */
  private interface Decoder {
    int decode(int s, int i, byte[] rec, float[] x, int at);
  }

  /** The first {@value RecordShards#SAMPLE_PER_SHARD} records of every shard, decoded. */
  private static Dataset sample(
      String spec, List<Path> files, long[] counts, long[] shape, int k, int bytes, RecordAt read, Decoder decode) {
    int e = 1;
    for (long d : shape) {
      e *= (int) d;
    }
    int n = 0;
    for (long c : counts) {
      n += (int) Math.min(SAMPLE_PER_SHARD, c);
    }
    float[] x = new float[n * e];
    int[] y = new int[n];
    int at = 0;
    for (int s = 0; s < files.size(); s++) {
      for (int i = 0; i < Math.min(SAMPLE_PER_SHARD, counts[s]); i++) {
        y[at] = decode.decode(s, i, read.read(s, i), x, at * e);
        at++;
      }
    }
    return new Dataset(spec + " (first records of each shard)", x, y, shape, k, null);
  }
}
