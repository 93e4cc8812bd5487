package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Training data read as a stream of records from one or more files (shards), never whole: the one record source
 * behind streamed training ({@link ShuffledRecords}, the trainer's stream feeder, the stream position in every
 * checkpoint). Implementations: TFRecord shards of {@code tf.Example} ({@link TfRecordShards}), IDX and CIFAR files
 * of fixed-size records ({@link FixedRecordShards}), CSV files of one example per line ({@link CsvShards}).
 *
 * <p>Every record has a global index (the shards in name order, records in file order) and a byte offset in its
 * shard, from which it can be read again: a checkpoint keeps the stream's position as offsets, and a resumed run
 * reads from them. Opening counts the records of every shard (and checks their framing) and parses the first
 * {@value #SAMPLE_PER_SHARD} of each for the example shape, the class count where it is not known otherwise, and
 * {@link #sample()}. Immutable and thread-safe; streams over it ({@link #records}) are not.
 */
public abstract class RecordShards {
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

  /**
   * @param kind mixed into the fingerprint ("" for TFRecord, whose fingerprints predate the other formats)
   * @param counts records per shard
   */
  RecordShards(String spec, String kind, List<Path> files, long[] sizes, long[] counts, Dataset sample, int numClasses) {
    this.spec = spec;
    this.files = List.copyOf(files);
    this.sizes = sizes.clone();
    this.firstIndex = new long[counts.length + 1];
    for (int i = 0; i < counts.length; i++) {
      firstIndex[i + 1] = firstIndex[i] + counts[i];
    }
    this.total = firstIndex[counts.length];
    this.exampleShape = sample.exampleShape();
    this.exampleSize = sample.exampleSize();
    this.numClasses = numClasses;
    this.sample = sample;
    this.fingerprint = fingerprint(kind, files, sizes, counts);
  }

  /**
   * Opens {@code spec} as a stream in {@code format} (null detects it from the first file): TFRecord shards (a file
   * or a glob), IDX images (a file, its labels beside it, or a folder with {@code train-images-idx3-ubyte}), CIFAR
   * binary batches (a file, a glob, or a CIFAR-10 / CIFAR-100 folder's training files) or CSV files (a file or a
   * glob).
   *
   * @param numClasses the class count, or 0 for the format's own rule
   * @throws IllegalArgumentException for data that cannot be streamed (a built-in name, an image folder,
   *     gzip-compressed files) with one line saying why; {@link DataFormatException} for malformed files
   */
  public static RecordShards open(String spec, String format, int numClasses) {
    Source s = source(spec, format);
    return switch (s.format()) {
      case TFRECORD -> TfRecordShards.open(spec, numClasses);
      case IDX -> FixedRecordShards.idx(spec, s.files(), numClasses);
      case CIFAR10 -> FixedRecordShards.cifar(spec, s.files(), Cifar.Variant.CIFAR10, numClasses);
      case CIFAR100 -> FixedRecordShards.cifar(spec, s.files(), Cifar.Variant.CIFAR100, numClasses);
      case CSV -> CsvShards.open(spec, s.files(), numClasses);
      case IMAGES -> throw new IllegalArgumentException(spec + ": image folders are not streamed; give --train without --stream");
    };
  }

  /**
   * The bytes {@code spec} would stream (every file it names; 0 for a built-in name or something that cannot be
   * streamed, such as gzip-compressed IDX, which has no random access for resuming): what the streaming
   * threshold is compared with.
   */
  public static long streamableBytes(String spec, String format) {
    Source s;
    try {
      s = source(spec, format);
    } catch (IllegalArgumentException e) {
      return 0;
    }
    if (s.format() == DataSources.Format.IMAGES) {
      return 0;
    }
    long bytes = 0;
    for (Path f : s.files()) {
      if (Bytes.isGzip(f)) {
        return 0;
      }
      try {
        bytes += Files.size(f);
      } catch (IOException e) {
        return 0;
      }
    }
    return bytes;
  }

  /** The files of {@code spec} and their format. */
  record Source(DataSources.Format format, List<Path> files) {}

  static Source source(String spec, String format) {
    if (DataSources.builtinNames().contains(spec)) {
      throw new IllegalArgumentException(spec + ": built-in data is generated in memory and not streamed");
    }
    DataSources.Format f = format == null || format.isBlank() ? null : DataSources.Format.parse(format);
    Path p = Path.of(spec);
    if (!TfRecordShards.isPattern(spec) && Files.isDirectory(p)) {
      return folder(p, f);
    }
    List<Path> files = TfRecordShards.files(spec);
    return new Source(f == null ? DataSources.detect(files.get(0)) : f, files);
  }

  /** A folder's training files, found as {@link DataSources} finds them. */
  private static Source folder(Path dir, DataSources.Format f) {
    if (f == null || f == DataSources.Format.CIFAR10) {
      List<Path> batches = new java.util.ArrayList<>();
      for (int i = 1; i <= 5; i++) {
        if (Files.isRegularFile(dir.resolve("data_batch_" + i + ".bin"))) {
          batches.add(dir.resolve("data_batch_" + i + ".bin"));
        }
      }
      if (!batches.isEmpty()) {
        return new Source(DataSources.Format.CIFAR10, batches);
      }
    }
    if ((f == null || f == DataSources.Format.CIFAR100) && Files.isRegularFile(dir.resolve("train.bin"))) {
      return new Source(DataSources.Format.CIFAR100, List.of(dir.resolve("train.bin")));
    }
    if (f == null || f == DataSources.Format.IDX) {
      for (String name : new String[] {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"}) {
        if (Files.isRegularFile(dir.resolve(name))) {
          return new Source(DataSources.Format.IDX, List.of(dir.resolve(name)));
        }
      }
    }
    return new Source(DataSources.Format.IMAGES, List.of());
  }

  /** What the data was opened from, for messages and provenance. */
  public String name() {
    return spec;
  }

  /** The shard files, in name order (for IDX, the images files). */
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
   * cache and for checking that a resumed stream reads the same data (hashing the contents would read every byte).
   * A shard rewritten in place with the same name, size and record count is not told apart.
   */
  public String fingerprint() {
    return fingerprint;
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
   * @throws DataFormatException naming the shard and the record's byte offset when the record is not an example of
   *     this data
   */
  public int parse(ShuffledRecords.Raw r, float[] x, int offset) {
    return parse(r.data(), 0, r.data().length, r.index(), r.offset(), x, offset);
  }

  /**
   * Parses record {@code i} of {@code batch} into {@code x[offset .. offset + exampleSize())} and returns its label.
   *
   * @throws DataFormatException naming the shard and the record's byte offset when the record is not an example of
   *     this data
   */
  public int parse(RawBatch batch, int i, float[] x, int offset) {
    return parse(batch.data(), batch.start(i), batch.length(i), batch.index(i), batch.offset(i), x, offset);
  }

  /** Parses one record's bytes {@code data[from .. from + length)}: the format's own decoding. */
  abstract int parse(byte[] data, int from, int length, long index, long offset, float[] x, int at);

  /**
   * A sequential reader of shard {@code shard} from byte {@code offset}, the start of its record {@code record}
   * (0, 0 for the start of the shard).
   */
  abstract Cursor cursor(int shard, long offset, int record) throws IOException;

  /** Reads the records of one shard in file order. Not thread-safe. */
  interface Cursor extends AutoCloseable {
    /**
     * Reads the next record into {@code reuse} when it fits, else into a new array, and returns the array holding
     * it ({@link #length()} bytes), or null at the end of the shard.
     */
    byte[] next(byte[] reuse) throws IOException;

    /** The length of the record {@link #next} read last. */
    int length();

    /** The byte offset of the next record. */
    long offset();

    /** The index within the shard of the next record. */
    int record();

    @Override
    void close();
  }

  /** The place of a record in messages: its index in the shard and its byte offset. */
  final String place(int shard, long index, long offset) {
    return "record " + (index - firstIndex[shard]) + " (byte " + offset + ")";
  }

  /** The global index of the first record of shard {@code shard}. */
  final long firstIndex(int shard) {
    return firstIndex[shard];
  }

  /** Records in shard {@code shard}. */
  final long count(int shard) {
    return firstIndex[shard + 1] - firstIndex[shard];
  }

  final long fileSize(int shard) {
    return sizes[shard];
  }

  /** The shard holding global index {@code index}. */
  final int shardOf(long index) {
    int i = Arrays.binarySearch(firstIndex, index);
    int s = i >= 0 ? i : -i - 2;
    // Empty shards share their first index with the next one.
    while (s < files.size() - 1 && firstIndex[s + 1] <= index) {
      s++;
    }
    return s;
  }

  /** Checks a parsed label against the class count, naming the record. */
  final int checkLabel(int shard, long index, long offset, long label) {
    if (label < 0 || label >= numClasses) {
      throw new DataFormatException(
          files.get(shard), place(shard, index, offset),
          "label " + label + " is outside [0, " + numClasses + "): the class count was taken on opening the data;"
              + " give the class count (--classes)");
    }
    return (int) label;
  }

  static String lower(Path p) {
    return p.getFileName().toString().toLowerCase(Locale.ROOT);
  }

  private static String fingerprint(String kind, List<Path> files, long[] sizes, long[] counts) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
    md.update(kind.getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < files.size(); i++) {
      md.update(files.get(i).getFileName().toString().getBytes(StandardCharsets.UTF_8));
      md.update(ByteBuffer.allocate(16).putLong(sizes[i]).putLong(counts[i]).array());
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
