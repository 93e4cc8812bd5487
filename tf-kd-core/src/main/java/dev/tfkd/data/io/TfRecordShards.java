package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Sharded TFRecord files of {@code tf.Example} records (e.g. {@code data/train-*.tfrecord}) read as a stream, never
 * whole: the training data of a run larger than memory. Examples are read as {@link TfRecordReader} reads them (the
 * same keys, checks and messages) and framed by the one TFRecord implementation ({@code dev.tfkd.io.TfRecord}).
 *
 * <p>Opening reads only the record headers of every shard (to count the examples and check the framing of the
 * lengths) and parses the first {@value RecordShards#SAMPLE_PER_SHARD} records of each shard: they fix the example shape and,
 * unless the class count is given, the class count (the largest label plus one). A later label outside the class
 * count stops the run naming its shard and record. Every record's CRCs are checked when it is read.
 *
 * <p>Examples have global indices: the shards in name order, records in file order. Immutable and thread-safe;
 * streams over it ({@link #records}) are not.
 */
public final class TfRecordShards extends RecordShards {
  private final long[] shape;

  private TfRecordShards(String spec, List<Path> files, long[] sizes, long[] counts, Dataset sample, int numClasses) {
    super(spec, "", files, sizes, counts, sample, numClasses);
    this.shape = sample.exampleShape();
  }

  /** Whether {@code spec} is a glob pattern ({@code *}, {@code ?} or {@code [}) rather than one path. */
  public static boolean isPattern(String spec) {
    return spec.indexOf('*') >= 0 || spec.indexOf('?') >= 0 || spec.indexOf('[') >= 0;
  }

  /**
   * The files {@code spec} names: one TFRecord file, or a glob pattern over the file names of one folder (the
   * folder itself has no pattern), sorted by name.
   *
   * @throws IllegalArgumentException when nothing matches
   */
  public static List<Path> files(String spec) {
    if (!isPattern(spec)) {
      Path p = Path.of(spec);
      if (!Files.isRegularFile(p)) {
        throw new IllegalArgumentException(spec + ": no such file");
      }
      return List.of(p);
    }
    Path pattern = Path.of(spec);
    Path dir = pattern.getParent() == null ? Path.of(".") : pattern.getParent();
    if (isPattern(dir.toString())) {
      throw new IllegalArgumentException(spec + ": a pattern may only match file names, not folders");
    }
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + pattern.getFileName());
    List<Path> out;
    try (Stream<Path> s = Files.list(dir)) {
      out = s.filter(p -> m.matches(p.getFileName()) && Files.isRegularFile(p)).sorted().toList();
    } catch (IOException e) {
      throw new IllegalArgumentException(spec + ": cannot list " + dir + ": " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(spec + ": no file matches");
    }
    return out;
  }

  /**
   * Opens the shards {@code spec} names.
   *
   * @param numClasses the class count, or 0 to take the largest label of the sampled records plus one
   * @throws DataFormatException for a file that is not TFRecord, a truncated record, or examples of unequal shapes
   */
  public static TfRecordShards open(String spec, int numClasses) {
    List<Path> files = files(spec);
    long[] sizes = new long[files.size()];
    long[] counts = new long[files.size()];
    List<Dataset> samples = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      if (Bytes.isGzip(f)) {
        throw new DataFormatException(f, "byte 0", "gzip-compressed TFRecord files are not supported; decompress it first");
      }
      try {
        sizes[i] = Files.size(f);
      } catch (IOException e) {
        throw Bytes.cannotRead(f, e);
      }
      counts[i] = countRecords(f, sizes[i]);
      samples.add(head(f, sizes[i], (int) Math.min(SAMPLE_PER_SHARD, counts[i]), numClasses));
    }
    Dataset sample = concat(spec, samples, numClasses);
    return new TfRecordShards(spec, files, sizes, counts, sample, sample.numClasses());
  }

  // One decoder per parsing thread: it keeps its scratch arrays between records.
  private static final ThreadLocal<FastExample> FAST = ThreadLocal.withInitial(FastExample::new);

  @Override
  int parse(byte[] data, int from, int length, long index, long offset, float[] x, int at) {
    int label = FAST.get().decode(data, from, length, shape, exampleSize(), numClasses(), x, at);
    if (label >= 0) {
      return label;
    }
    // Anything the direct decoder does not take (encoded images, other layouts, errors) goes through protobuf.
    int shard = shardOf(index);
    Path f = shards().get(shard);
    TfRecordReader.Sample s = TfRecordReader.parse(f, place(shard, index, offset), data, from, length, 0, false);
    if (!Arrays.equals(s.shape(), shape)) {
      throw new DataFormatException(
          f, place(shard, index, offset), "example has shape " + Arrays.toString(s.shape()) + " but the data has " + Arrays.toString(shape));
    }
    if (s.label() >= numClasses()) {
      throw new DataFormatException(
          f, place(shard, index, offset), "label " + s.label() + " is outside [0, " + numClasses() + "): the class count was taken from the"
              + " first records of each shard; give the class count (--classes)");
    }
    System.arraycopy(s.values(), 0, x, at, s.values().length);
    return s.label();
  }

  @Override
  Cursor cursor(int shard, long offset, int record) throws IOException {
    Path f = shards().get(shard);
    FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
    try {
      TfRecordReader.Records r = reader(ch, f, fileSize(shard), offset, record);
      return new Cursor() {
        @Override
        public byte[] next(byte[] reuse) throws IOException {
          return r.next(reuse);
        }

        @Override
        public int length() {
          return r.length();
        }

        @Override
        public long offset() {
          return r.offset();
        }

        @Override
        public int record() {
          return r.recordIndex();
        }

        @Override
        public void close() {
          try {
            ch.close();
          } catch (IOException ignored) {
            // Read-only: nothing is lost when closing fails.
          }
        }
      };
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Opens {@code file} as a record reader positioned at {@code offset}, the start of record {@code record}. */
  static TfRecordReader.Records reader(FileChannel ch, Path file, long size, long offset, int record) throws IOException {
    ch.position(offset);
    InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 1 << 16);
    return new TfRecordReader.Records(in, file, size, offset, record);
  }

  /** Counts the records of {@code f} from their headers alone (length and its CRC), skipping the data. */
  private static long countRecords(Path f, long size) {
    ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    long pos = 0;
    long n = 0;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      while (pos < size) {
        header.clear();
        while (header.hasRemaining()) {
          if (ch.read(header, pos + header.position()) < 0) {
            throw new DataFormatException(f, "record " + n + " (byte " + pos + ")", "file ends inside the record header (truncated)");
          }
        }
        long length = header.getLong(0);
        if (header.getInt(8) != dev.tfkd.io.TfRecord.maskedCrc32c(header.array(), 0, 8)) {
          throw new DataFormatException(
              f, "record " + n + " (byte " + pos + ")", "bad CRC of the record length (corrupt file or not a TFRecord file)");
        }
        long left = size - pos - 12;
        if (length < 0 || length > left - 4 || length > Integer.MAX_VALUE - 16) {
          throw new DataFormatException(
              f, "record " + n + " (byte " + pos + ")",
              "record declares " + length + " bytes but only " + Math.max(0, left - 4) + " are left (truncated)");
        }
        pos += 16 + length;
        n++;
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(f, e);
    }
    return n;
  }

  private static Dataset head(Path f, long size, int n, int numClasses) {
    List<TfRecordReader.Sample> got = new ArrayList<>();
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      TfRecordReader.Records r = reader(ch, f, size, 0, 0);
      for (int i = 0; i < n; i++) {
        byte[] data = r.next();
        got.add(TfRecordReader.parse(f, "record " + i, data, numClasses));
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(f, e);
    }
    if (got.isEmpty()) {
      return null;
    }
    long[] shape = got.get(0).shape();
    int e = got.get(0).values().length;
    float[] x = new float[got.size() * e];
    int[] y = new int[got.size()];
    int max = 0;
    for (int i = 0; i < got.size(); i++) {
      TfRecordReader.Sample s = got.get(i);
      if (!Arrays.equals(s.shape(), shape)) {
        throw new DataFormatException(
            f, "record " + i, "example has shape " + Arrays.toString(s.shape()) + " but record 0 has " + Arrays.toString(shape));
      }
      System.arraycopy(s.values(), 0, x, i * e, e);
      y[i] = s.label();
      max = Math.max(max, y[i]);
    }
    return new Dataset(f.getFileName().toString(), x, y, shape, numClasses > 0 ? numClasses : max + 1, null);
  }

  private static Dataset concat(String spec, List<Dataset> parts, int numClasses) {
    List<Dataset> some = parts.stream().filter(java.util.Objects::nonNull).toList();
    if (some.isEmpty()) {
      throw new IllegalArgumentException(spec + ": no records");
    }
    long[] shape = some.get(0).exampleShape();
    int k = numClasses;
    int n = 0;
    for (Dataset d : some) {
      if (!Arrays.equals(d.exampleShape(), shape)) {
        throw new DataFormatException(
            Path.of(d.name()), "record 0", "example has shape " + Arrays.toString(d.exampleShape()) + " but "
                + some.get(0).name() + " has " + Arrays.toString(shape));
      }
      k = Math.max(k, d.numClasses());
      n += d.size();
    }
    int e = some.get(0).exampleSize();
    float[] x = new float[n * e];
    int[] y = new int[n];
    int at = 0;
    for (Dataset d : some) {
      System.arraycopy(d.features(), 0, x, at * e, d.size() * e);
      System.arraycopy(d.labels(), 0, y, at, d.size());
      at += d.size();
    }
    return new Dataset(spec + " (first records of each shard)", x, y, shape, k, null);
  }
}
