package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Sharded TFRecord files of {@code tf.Example} records (e.g. {@code data/train-*.tfrecord}) read as a stream, never
 * whole: the training data of a run larger than memory. Examples are read as {@link TfRecordReader} reads them (the
 * same keys, checks and messages) and framed by the one TFRecord implementation ({@code dev.tfkd.io.TfRecord}).
 *
 * <p>Opening reads only the record headers of every shard (to count the examples and check the framing of the
 * lengths) and parses the first {@value #SAMPLE_PER_SHARD} records of each shard: they fix the example shape and,
 * unless the class count is given, the class count (the largest label plus one). A later label outside the class
 * count stops the run naming its shard and record. Every record's CRCs are checked when it is read.
 *
 * <p>Examples have global indices: the shards in name order, records in file order. Immutable and thread-safe;
 * streams over it ({@link #records}) are not.
 */
public final class TfRecordShards {
  /** Records of each shard parsed on opening, for the shape, the class count and {@link #sample()}. */
  public static final int SAMPLE_PER_SHARD = 256;

  private final String spec;
  private final List<Path> files;
  private final long[] sizes;
  private final long[] firstIndex;
  private final long total;
  private final long[] exampleShape;
  private final int exampleSize;
  private final int numClasses;
  private final Dataset sample;
  private final String fingerprint;

  private TfRecordShards(String spec, List<Path> files, long[] sizes, long[] counts, Dataset sample, int numClasses) {
    this.spec = spec;
    this.files = List.copyOf(files);
    this.sizes = sizes;
    this.firstIndex = new long[counts.length + 1];
    for (int i = 0; i < counts.length; i++) {
      firstIndex[i + 1] = firstIndex[i] + counts[i];
    }
    this.total = firstIndex[counts.length];
    this.exampleShape = sample.exampleShape();
    this.exampleSize = sample.exampleSize();
    this.numClasses = numClasses;
    this.sample = sample;
    this.fingerprint = fingerprint(files, sizes, counts);
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

  /** What the data was opened from, for messages and provenance. */
  public String name() {
    return spec;
  }

  /** The shard files, in name order. */
  public List<Path> shards() {
    return files;
  }

  /** Examples in all shards. */
  public long size() {
    return total;
  }

  /** The shape of one example. */
  public long[] exampleShape() {
    return exampleShape.clone();
  }

  /** Float values in one example. */
  public int exampleSize() {
    return exampleSize;
  }

  /** The class count K. */
  public int numClasses() {
    return numClasses;
  }

  /**
   * The first records of every shard as an in-memory dataset (at most {@value #SAMPLE_PER_SHARD} per shard): for
   * what needs a few real examples (warm-up records, shape checks), never for training.
   */
  public Dataset sample() {
    return sample;
  }

  /** Bytes in all shards. */
  public long bytes() {
    return Arrays.stream(sizes).sum();
  }

  /**
   * SHA-256 (hex) of the shards' names, sizes and record counts: a cheap identity of the data for the teacher-logit
   * cache (hashing the contents would read every byte before a cache hit could be found). A shard rewritten in
   * place with the same name, size and record count is not told apart.
   */
  public String fingerprint() {
    return fingerprint;
  }

  /** The global index of the first record of shard {@code shard}. */
  long firstIndex(int shard) {
    return firstIndex[shard];
  }

  /** Records in shard {@code shard}. */
  long count(int shard) {
    return firstIndex[shard + 1] - firstIndex[shard];
  }

  long fileSize(int shard) {
    return sizes[shard];
  }

  /** The shard holding global index {@code index}. */
  int shardOf(long index) {
    int i = Arrays.binarySearch(firstIndex, index);
    int s = i >= 0 ? i : -i - 2;
    // Empty shards share their first index with the next one.
    while (s < files.size() - 1 && firstIndex[s + 1] <= index) {
      s++;
    }
    return s;
  }

  /**
   * A stream over the shards, pass after pass, from the start: each pass visits the shards in an order drawn from
   * {@code seed} and the pass, and draws records through a shuffle buffer of {@code buffer} records. With {@code
   * buffer} 1 and {@code shuffle} false it reads every pass in file order.
   */
  public ShuffledRecords records(long seed, int buffer, boolean shuffle) {
    return new ShuffledRecords(this, seed, buffer, shuffle, null);
  }

  /** A stream continued from {@code position} (as {@link ShuffledRecords#position()} gave it). */
  public ShuffledRecords records(long seed, int buffer, StreamPosition position) {
    return new ShuffledRecords(this, seed, buffer, true, position);
  }

  /**
   * Parses {@code r} into {@code x[offset .. offset + exampleSize())} and returns its label.
   *
   * @throws DataFormatException naming the shard and record when the record is not an example of this data
   */
  public int parse(ShuffledRecords.Raw r, float[] x, int offset) {
    int shard = shardOf(r.index());
    Path f = files.get(shard);
    String place = "record " + (r.index() - firstIndex[shard]) + " (byte " + r.offset() + ")";
    TfRecordReader.Sample s = TfRecordReader.parse(f, place, r.data(), 0);
    if (!Arrays.equals(s.shape(), exampleShape)) {
      throw new DataFormatException(
          f, place, "example has shape " + Arrays.toString(s.shape()) + " but the data has " + Arrays.toString(exampleShape));
    }
    if (s.label() >= numClasses) {
      throw new DataFormatException(
          f, place, "label " + s.label() + " is outside [0, " + numClasses + "): the class count was taken from the"
              + " first records of each shard; give the class count (--classes)");
    }
    System.arraycopy(s.values(), 0, x, offset, exampleSize);
    return s.label();
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

  private static String fingerprint(List<Path> files, long[] sizes, long[] counts) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
    for (int i = 0; i < files.size(); i++) {
      md.update(files.get(i).getFileName().toString().getBytes(StandardCharsets.UTF_8));
      md.update(ByteBuffer.allocate(16).putLong(sizes[i]).putLong(counts[i]).array());
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
