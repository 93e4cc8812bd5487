package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.ShuffledRecords;
import dev.tfkd.data.io.RecordShards;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.tensorflow.proto.ConfigProto;

/**
 * Teacher logits for a whole training set, computed once and reused for every epoch (and every later run), keyed
 * by the teacher's and the data's SHA-256 fingerprints. Valid only when the student sees the examples exactly as
 * stored, i.e. without augmentation; with augmentation the teacher has to run online on each augmented batch
 * ({@link Trainer#trainOnline}).
 *
 * <p>Entries live in memory, and, when the cache has a directory, in files {@code <teacher>-<data>.logits} there:
 * a 32-byte header (magic {@code TFKDLOGT}, example count, class count) and the logits as little-endian float32,
 * read back through a memory map. Files are written under a temporary name, flushed and renamed, so a crash never
 * leaves a partial entry; an entry whose header does not match is recomputed. Thread-safe.
 *
 * <p>For data larger than memory ({@link #table(String, TfRecordShards, int, int, BatchLogits) streamed shards},
 * or data in memory whose logits would not fit beside it) the entry is filled batch by batch and read back as a
 * {@link LogitTable}, row by row through memory maps, never as one array.
 */
public final class TeacherLogitCache {
  private static final byte[] MAGIC = "TFKDLOGT".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADER = 32;
  // A few entries are plenty: a run distills from one teacher on one training set.
  private static final int MAX_IN_MEMORY = 4;

  private final Path dir;
  private final Map<String, float[]> memory =
      new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
          return size() > MAX_IN_MEMORY;
        }
      };
  private long hits;
  private long misses;

  private TeacherLogitCache(Path dir) {
    this.dir = dir;
  }

  /** A cache that lives only as long as this object. */
  public static TeacherLogitCache inMemory() {
    return new TeacherLogitCache(null);
  }

  /**
   * A cache backed by files in {@code dir}, shared across runs. The directory is created when the first entry is
   * written, so a run refused before it computes logits leaves nothing behind.
   */
  public static TeacherLogitCache inDirectory(Path dir) {
    return new TeacherLogitCache(java.util.Objects.requireNonNull(dir, "dir"));
  }

  /** Whether entries are kept in files (and can be read back as a {@link LogitTable} without being in memory). */
  public boolean onDisk() {
    return dir != null;
  }

  /**
   * The teacher's logits for streamed {@code data} as a table read from this cache's directory: found by the
   * teacher's and the shards' fingerprints ({@link RecordShards#fingerprint()}), or else filled in one streaming
   * pass over the shards in file order, {@code batchSize} records at a time, each batch's logits appended to the
   * entry's file as they come (never all in memory), and published by an atomic rename.
   *
   * @param teacher asked for each batch's logits ({@code n x numClasses})
   * @throws IllegalStateException for a cache without a directory
   */
  public LogitTable table(String teacherFingerprint, RecordShards data, int numClasses, int batchSize, BatchLogits teacher) {
    requireDirectory();
    return table(
        key(teacherFingerprint, "stream-" + data.fingerprint()), data.size(), numClasses,
        out -> {
          int e = data.exampleSize();
          float[] x = new float[batchSize * e];
          try (ShuffledRecords r = data.records(0, 1, false)) {
            for (long done = 0; done < data.size(); ) {
              int m = (int) Math.min(batchSize, data.size() - done);
              for (int i = 0; i < m; i++) {
                data.parse(r.next(), x, i * e);
              }
              out.append(teacher.logits(m == batchSize ? x : java.util.Arrays.copyOf(x, m * e), m), m);
              done += m;
            }
          }
        });
  }

  /**
   * The teacher's logits for {@code data} in memory as a table, for logits that need not fit in memory: read from
   * this cache's directory if present, else computed {@code batchSize} examples at a time and appended to the
   * entry's file as they come. A cache without a directory computes them into memory ({@link #logits(String,
   * Dataset, int, Supplier)}).
   */
  public LogitTable table(String teacherFingerprint, Dataset data, int numClasses, int batchSize, BatchLogits teacher) {
    if (dir == null) {
      return LogitTable.of(
          logits(teacherFingerprint, data, numClasses, () -> all(data, numClasses, batchSize, teacher)), numClasses);
    }
    return table(
        key(teacherFingerprint, fingerprint(data)), data.size(), numClasses,
        out -> {
          int e = data.exampleSize();
          for (int from = 0; from < data.size(); from += batchSize) {
            int m = Math.min(batchSize, data.size() - from);
            out.append(teacher.logits(java.util.Arrays.copyOfRange(data.features(), from * e, (from + m) * e), m), m);
          }
        });
  }

  private static float[] all(Dataset data, int numClasses, int batchSize, BatchLogits teacher) {
    float[] out = new float[data.size() * numClasses];
    int e = data.exampleSize();
    for (int from = 0; from < data.size(); from += batchSize) {
      int m = Math.min(batchSize, data.size() - from);
      float[] z = teacher.logits(java.util.Arrays.copyOfRange(data.features(), from * e, (from + m) * e), m);
      System.arraycopy(z, 0, out, from * numClasses, m * numClasses);
    }
    return out;
  }

  private void requireDirectory() {
    if (dir == null) {
      throw new IllegalStateException("logits of streamed data are kept on disk: use TeacherLogitCache.inDirectory");
    }
  }

  private static String key(String teacherFingerprint, String dataFingerprint) {
    Objects.requireNonNull(teacherFingerprint, "teacherFingerprint");
    return teacherFingerprint.substring(0, Math.min(32, teacherFingerprint.length())) + "-"
        + dataFingerprint.substring(0, Math.min(dataFingerprint.length(), dataFingerprint.startsWith("stream-") ? 39 : 32));
  }

  /** Fills an entry's file batch by batch. */
  private interface Fill {
    void into(Appender out) throws IOException;
  }

  /** Appends rows of logits to an entry being written. */
  private interface Appender {
    void append(float[] logits, int rows) throws IOException;
  }

  private synchronized LogitTable table(String key, long n, int k, Fill fill) {
    Path file = dir.resolve(key + ".logits");
    if (matches(file, n, k)) {
      hits++;
      return LogitTable.mapped(file, HEADER, n, k);
    }
    misses++;
    long[] written = {0};
    writeEntry(
        file, n, k,
        ch -> fill.into(
            (logits, rows) -> {
              if (logits == null || logits.length != (long) rows * k) {
                throw new IllegalStateException(
                    "the teacher gave " + (logits == null ? "no" : logits.length) + " logits for a batch of " + rows
                        + "; expected " + rows + " x " + k);
              }
              writeFloats(ch, logits, logits.length);
              written[0] += rows;
            }));
    if (written[0] != n) {
      throw new IllegalStateException("the logit pass wrote " + written[0] + " rows for " + n + " examples");
    }
    return LogitTable.mapped(file, HEADER, n, k);
  }

  private static boolean matches(Path file, long n, int k) {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (ch.size() != HEADER + 4L * n * k) {
        return false;
      }
      ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
      while (h.hasRemaining() && ch.read(h) >= 0) {
        // Reads the whole header.
      }
      h.flip();
      byte[] magic = new byte[MAGIC.length];
      h.get(magic);
      return java.util.Arrays.equals(magic, MAGIC) && h.getLong() == n && h.getLong() == k;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The frozen teacher's logits for {@code data}: from the cache if present, else computed in batches of
   * {@code batchSize} in the teacher's own session and stored.
   */
  public float[] logits(FrozenTeacher teacher, Dataset data, int batchSize, ConfigProto config) {
    return logits(teacher.fingerprint(), data, teacher.numClasses(), () -> teacher.logits(data, batchSize, config));
  }

  /**
   * Logits for {@code data} from a teacher known by {@code teacherFingerprint} (e.g. {@link
   * #fingerprint(Path)} of a SavedModel directory); {@code compute} runs on a miss and must return {@code
   * data.size() x numClasses} values.
   */
  public synchronized float[] logits(
      String teacherFingerprint, Dataset data, int numClasses, Supplier<float[]> compute) {
    Objects.requireNonNull(teacherFingerprint, "teacherFingerprint");
    String key = teacherFingerprint.substring(0, Math.min(32, teacherFingerprint.length())) + "-"
        + fingerprint(data).substring(0, 32);
    long expected = (long) data.size() * numClasses;
    float[] cached = memory.get(key);
    if (cached == null && dir != null) {
      cached = read(dir.resolve(key + ".logits"), data.size(), numClasses);
    }
    if (cached != null && cached.length == expected) {
      hits++;
      memory.put(key, cached);
      return cached;
    }
    misses++;
    float[] computed = compute.get();
    if (computed.length != expected) {
      throw new IllegalStateException(
          "teacher produced " + computed.length + " logits for " + data.size() + " examples of " + numClasses
              + " classes");
    }
    memory.put(key, computed);
    if (dir != null) {
      write(dir.resolve(key + ".logits"), computed, data.size(), numClasses);
    }
    return computed;
  }

  /** Lookups answered from memory or disk. */
  public synchronized long hits() {
    return hits;
  }

  /** Lookups that ran the teacher. */
  public synchronized long misses() {
    return misses;
  }

  /** SHA-256 (hex) of a dataset's example shape, class count, labels and features. */
  public static String fingerprint(Dataset data) {
    MessageDigest md = FrozenTeacher.sha256();
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    for (long d : data.exampleShape()) {
      buf.putLong(d);
    }
    buf.putInt(data.numClasses()).putInt(data.size());
    int[] y = data.labels();
    float[] x = data.features();
    int i = 0;
    int j = 0;
    while (i < y.length || j < x.length) {
      while (i < y.length && buf.remaining() >= 4) {
        buf.putInt(y[i++]);
      }
      while (i == y.length && j < x.length && buf.remaining() >= 4) {
        buf.putFloat(x[j++]);
      }
      buf.flip();
      md.update(buf);
      buf.clear();
    }
    buf.flip();
    md.update(buf);
    return HexFormat.of().formatHex(md.digest());
  }

  /** SHA-256 (hex) of every regular file under {@code dir} (relative paths and contents), e.g. a SavedModel. */
  public static String fingerprint(Path dir) {
    MessageDigest md = FrozenTeacher.sha256();
    try (var files = Files.walk(dir)) {
      for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
        md.update(dir.relativize(p).toString().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(Files.readAllBytes(p));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir + ": " + e.getMessage(), e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static float[] read(Path file, int n, int k) {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size != HEADER + 4L * n * k) {
        return null;
      }
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
      map.order(ByteOrder.LITTLE_ENDIAN);
      byte[] magic = new byte[MAGIC.length];
      map.get(magic);
      if (!java.util.Arrays.equals(magic, MAGIC) || map.getLong() != n || map.getLong() != k) {
        return null;
      }
      float[] out = new float[n * k];
      map.position(HEADER);
      map.asFloatBuffer().get(out);
      return out;
    } catch (IOException e) {
      // An unreadable entry is recomputed; the cache must never be the reason a run fails.
      return null;
    }
  }

  private static void write(Path file, float[] logits, int n, int k) {
    writeEntry(file, n, k, ch -> writeFloats(ch, logits, logits.length));
  }

  /** Writes the body of an entry to an open channel. */
  private interface Body {
    void write(FileChannel ch) throws IOException;
  }

  /**
   * The one way an entry is written: header, then {@code body}, under a temporary name, flushed and renamed, so a
   * crash never leaves a partial entry.
   */
  private static void writeEntry(Path file, long n, int k, Body body) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    try {
      Files.createDirectories(file.getParent());
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putLong(n).putLong(k);
        header.position(HEADER).flip();
        while (header.hasRemaining()) {
          ch.write(header);
        }
        body.write(ch);
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // Best effort: the temporary name is never read as an entry.
      }
      throw new UncheckedIOException("cannot write the logit cache entry " + file + ": " + e.getMessage(), e);
    }
  }

  private static void writeFloats(FileChannel ch, float[] values, int count) throws IOException {
    ByteBuffer body = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; ) {
      body.clear();
      while (i < count && body.remaining() >= 4) {
        body.putFloat(values[i++]);
      }
      body.flip();
      while (body.hasRemaining()) {
        ch.write(body);
      }
    }
  }
}
