package dev.tfkd.data.io;

import dev.tfkd.io.TfRecord;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import org.tensorflow.proto.Example;

/**
 * Hostile input: valid files of every format are built, then mutated (bytes flipped, truncated, extended with
 * garbage, ranges cut out, integers overwritten, headers lying about sizes with their checksums fixed so the lie
 * gets through), and read through {@link DataSources#load}. Every read must either give a valid dataset (labels in
 * range, shape consistent with the values, finite features) or fail with one {@link DataFormatException} naming the
 * file: no other exception, no {@link OutOfMemoryError}, no hang (each read runs under a timeout).
 *
 * <p>Tries per property come from {@code jqwik.tries.default} ({@code junit-platform.properties}: 100; the
 * {@code fuzz} Maven profile raises it).
 */
class HostileInputTest {
  /** Generous for a loaded 2-core machine: a valid read of these small files takes milliseconds. */
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  // ---------------------------------------------------------------- mutations of bytes, shared by every format

  /** One change to a file's bytes; positions are fractions of the current length so they shrink well. */
  sealed interface Mutation {
    byte[] apply(byte[] b);
  }

  record Flip(double at, int xor) implements Mutation {
    public byte[] apply(byte[] b) {
      if (b.length == 0) {
        return b;
      }
      byte[] c = b.clone();
      c[index(at, c.length)] ^= (byte) xor;
      return c;
    }
  }

  record Truncate(double at) implements Mutation {
    public byte[] apply(byte[] b) {
      return Arrays.copyOf(b, index(at, b.length));
    }
  }

  record Extend(byte[] garbage) implements Mutation {
    public byte[] apply(byte[] b) {
      byte[] c = Arrays.copyOf(b, b.length + garbage.length);
      System.arraycopy(garbage, 0, c, b.length, garbage.length);
      return c;
    }

    @Override
    public String toString() {
      return "Extend" + Arrays.toString(garbage);
    }
  }

  record Cut(double at, int length) implements Mutation {
    public byte[] apply(byte[] b) {
      int from = index(at, b.length);
      int to = Math.min(b.length, from + length);
      byte[] c = new byte[b.length - (to - from)];
      System.arraycopy(b, 0, c, 0, from);
      System.arraycopy(b, to, c, from, b.length - to);
      return c;
    }
  }

  /** Writes an interesting integer (a size, a sign bit, all ones) over 1, 2, 4 or 8 bytes at a position. */
  record Overwrite(double at, long value, int width, boolean bigEndian) implements Mutation {
    public byte[] apply(byte[] b) {
      if (b.length < width) {
        return b;
      }
      byte[] c = b.clone();
      putInt(c, Math.min(index(at, c.length), c.length - width), value, width, bigEndian);
      return c;
    }
  }

  static int index(double at, int length) {
    return Math.min(length == 0 ? 0 : length - 1, (int) (at * length));
  }

  static void putInt(byte[] c, int pos, long value, int width, boolean bigEndian) {
    for (int i = 0; i < width; i++) {
      int shift = 8 * (bigEndian ? width - 1 - i : i);
      c[pos + i] = (byte) (value >>> shift);
    }
  }

  static Arbitrary<Long> interestingLongs() {
    return Arbitraries.oneOf(
        Arbitraries.of(
            0L, 1L, -1L, 2L, 3L, 255L, 256L, 1L << 16, 1L << 24, (long) Integer.MAX_VALUE, 1L << 31, 1L << 32,
            Integer.MAX_VALUE - 15L, 1L << 60, Long.MAX_VALUE, Long.MAX_VALUE - 3, Long.MIN_VALUE),
        Arbitraries.longs().between(0, 5000));
  }

  static Arbitrary<Mutation> mutation() {
    Arbitrary<Double> at = Arbitraries.doubles().between(0, 1);
    return Arbitraries.oneOf(
        Combinators.combine(at, Arbitraries.integers().between(1, 255)).as(Flip::new),
        at.map(Truncate::new),
        Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(40).map(Extend::new),
        Combinators.combine(at, Arbitraries.integers().between(1, 64)).as(Cut::new),
        Combinators.combine(at, interestingLongs(), Arbitraries.of(1, 2, 4, 8), Arbitraries.of(true, false))
            .as(Overwrite::new));
  }

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    return mutation().list().ofMaxSize(4);
  }

  static byte[] mutate(byte[] valid, List<Mutation> mutations) {
    byte[] b = valid;
    for (Mutation m : mutations) {
      b = m.apply(b);
    }
    return b;
  }

  // ---------------------------------------------------------------- the oracle

  /**
   * Reads under a timeout: either a valid dataset ({@code check} then applies the format's own expectations) or
   * one single-line DataFormatException naming a file in {@code dir}. Detection failures (a corrupt file whose
   * format cannot be told) are DataSources' own IllegalArgumentException, also naming the file.
   */
  static Dataset readOrReject(Path dir, Supplier<Dataset> read) {
    Dataset d;
    try {
      d = assertTimeoutPreemptively(TIMEOUT, read::get, () -> "reading hung (over " + TIMEOUT + ") in " + dir);
    } catch (DataFormatException e) {
      assertClear(dir, e);
      // The share of tries read and rejected shows the mutations are neither all harmless nor all fatal.
      Statistics.collect("rejected");
      return null;
    } catch (IllegalArgumentException e) {
      // Only format detection may throw a plain IllegalArgumentException; anything else is a reader bug.
      if (!e.getStackTrace()[0].getClassName().equals(DataSources.class.getName())) {
        throw e;
      }
      assertClear(dir, e);
      Statistics.collect("format not detected");
      return null;
    }
    assertValid(d);
    Statistics.collect("read");
    return d;
  }

  static void assertClear(Path dir, IllegalArgumentException e) {
    String m = e.getMessage();
    assertTrue(m != null && m.contains(dir.toString()), "error does not name the file: " + m);
    assertFalse(m.contains("\n"), "error is not one line: " + m);
    assertTrue(m.length() < 1000, "error is not short: " + m.length() + " chars");
  }

  static void assertValid(Dataset d) {
    assertTrue(d.size() >= 1, "empty dataset");
    long e = 1;
    for (long s : d.exampleShape()) {
      assertTrue(s >= 1, "bad shape " + Arrays.toString(d.exampleShape()));
      e = Math.multiplyExact(e, s); // a shape whose product wraps around is itself a bug
    }
    assertEquals(d.size() * e, d.features().length, "shape inconsistent with the values");
    for (int y : d.labels()) {
      assertTrue(y >= 0 && y < d.numClasses(), "label " + y + " outside [0, " + d.numClasses() + ")");
    }
    for (float v : d.features()) {
      assertTrue(Float.isFinite(v), "non-finite feature " + v);
    }
  }

  static void assertUnitRange(Dataset d) {
    if (d == null) {
      return;
    }
    for (float v : d.features()) {
      assertTrue(v >= 0 && v <= 1, "pixel " + v + " outside [0, 1]");
    }
  }

  static Path tempDir() {
    try {
      return Files.createTempDirectory("tfkd-hostile");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void delete(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(b);
    }
    return out.toByteArray();
  }

  // ---------------------------------------------------------------- IDX

  /** A header lie in an IDX file, made before compression: a dimension, the type or the number of dimensions. */
  record IdxLie(int field, long value) {
    byte[] apply(byte[] b) {
      byte[] c = b.clone();
      // An earlier lie may have changed the number of dimensions: stay inside the bytes there are.
      int ndims = Math.max(1, Math.min(8, c[3]));
      if (field == 0) {
        c[2] = (byte) value; // type
      } else if (field == 1) {
        c[3] = (byte) value; // number of dimensions
      } else {
        int at = 4 + 4 * ((field - 2) % ndims);
        if (at + 4 <= c.length) {
          putInt(c, at, value, 4, true);
        }
      }
      return c;
    }
  }

  @Provide
  Arbitrary<List<IdxLie>> idxLies() {
    Arbitrary<Long> values =
        Arbitraries.oneOf(
            interestingLongs(), Arbitraries.of(0x08L, 0x09L, 0x0BL, 0x0CL, 0x0DL, 0x0EL, 0x7fffffffL, 0x80000000L),
            Arbitraries.longs().between(0, 12));
    return Combinators.combine(Arbitraries.integers().between(0, 5), values).as(IdxLie::new).list().ofMaxSize(2);
  }

  @Property
  void idx(
      @ForAll boolean gzip,
      @ForAll boolean mutateLabels,
      @ForAll boolean detect,
      @ForAll("idxLies") List<IdxLie> lies,
      @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path dir = tempDir();
    try {
      Path images = TestFiles.mnistLike(dir, "train", 5, 3, 4, 3, false);
      Path labels = dir.resolve("train-labels-idx1-ubyte");
      Path target = mutateLabels ? labels : images;
      byte[] b = Files.readAllBytes(target);
      for (IdxLie lie : lies) {
        b = lie.apply(b);
      }
      if (gzip) {
        Files.write(dir.resolve(images.getFileName() + ".gz"), gzip(Files.readAllBytes(images)));
        Files.write(dir.resolve(labels.getFileName() + ".gz"), gzip(Files.readAllBytes(labels)));
        Files.delete(images);
        Files.delete(labels);
        images = dir.resolve(images.getFileName() + ".gz");
        target = dir.resolve(target.getFileName() + ".gz");
        b = gzip(b);
      }
      Files.write(target, mutate(b, mutations));
      Path file = images;
      readOrReject(dir, () -> DataSources.load(file.toString(), detect ? null : "idx", DataSources.Split.TRAIN));
    } finally {
      delete(dir);
    }
  }

  // ---------------------------------------------------------------- CIFAR

  @Property
  void cifar(
      @ForAll boolean cifar100,
      @ForAll boolean detect,
      @ForAll @IntRange(min = 0, max = 2) int labelRecord,
      @ForAll @IntRange(min = -1, max = 255) int labelValue,
      @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path dir = tempDir();
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < 3; i++) {
        out.write(cifar100 ? TestFiles.cifarRecord(i % 20, (7 * i) % 100) : TestFiles.cifarRecord(i % 10));
      }
      byte[] b = out.toByteArray();
      int record = cifar100 ? 3074 : 3073;
      if (labelValue >= 0) {
        b[labelRecord * record + (cifar100 ? 1 : 0)] = (byte) labelValue;
      }
      Path file = Files.write(dir.resolve("data_batch_1.bin"), mutate(b, mutations));
      String format = detect ? null : cifar100 ? "cifar100" : "cifar10";
      assertUnitRange(readOrReject(dir, () -> DataSources.load(file.toString(), format, DataSources.Split.TRAIN)));
    } finally {
      delete(dir);
    }
  }

  // ---------------------------------------------------------------- CSV

  /** Replaces field {@code field} of line {@code line} (both taken modulo the counts) with {@code token}. */
  record CsvEdit(int line, int field, String token) {
    String apply(String text) {
      String[] lines = text.split("\n", -1);
      int l = line % lines.length;
      String[] fields = lines[l].split(",", -1);
      fields[field % fields.length] = token;
      lines[l] = String.join(",", fields);
      return String.join("\n", lines);
    }
  }

  @Provide
  Arbitrary<List<CsvEdit>> csvEdits() {
    Arbitrary<String> tokens =
        Arbitraries.oneOf(
            Arbitraries.of(
                "", " ", "NaN", "Infinity", "-Infinity", "1e39", "-1", "2147483647", "2147483648", "99999999999",
                "1.5", "0x1p3", "abc", "1,2", "3\n4", "\"5\"", "\u0000", "\uFEFF7", "1e-50", "0"),
            Arbitraries.integers().between(-3, 300).map(String::valueOf),
            Arbitraries.strings().ofMaxLength(6));
    return Combinators.combine(Arbitraries.integers().between(0, 20), Arbitraries.integers().between(0, 9), tokens)
        .as(CsvEdit::new)
        .list()
        .ofMaxSize(3);
  }

  @Property
  void csv(
      @ForAll boolean header,
      @ForAll boolean detect,
      @ForAll @IntRange(min = 0, max = 5) int numClasses,
      @ForAll("csvEdits") List<CsvEdit> edits,
      @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path dir = tempDir();
    try {
      StringBuilder s = new StringBuilder(header ? "a,b,c,label\n" : "");
      for (int i = 0; i < 6; i++) {
        s.append(i * 0.5f).append(',').append(-i).append(',').append(i * i).append(',').append(i % 3).append('\n');
      }
      String text = s.toString();
      for (CsvEdit e : edits) {
        text = e.apply(text);
      }
      Path file = Files.write(dir.resolve("data.csv"), mutate(text.getBytes(StandardCharsets.UTF_8), mutations));
      String format = detect ? null : "csv";
      readOrReject(dir, () -> DataSources.load(file.toString(), format, DataSources.Split.TRAIN, numClasses));
    } finally {
      delete(dir);
    }
  }

  // ---------------------------------------------------------------- TFRecord

  /** Makes the record {@code record}'s length declare {@code value}, with its CRC fixed when {@code fixCrc}. */
  record LengthLie(int record, long value, boolean fixCrc) {
    byte[] apply(byte[] b) {
      int o = recordOffset(b, record);
      if (o < 0) {
        return b;
      }
      byte[] c = b.clone();
      putInt(c, o, value, 8, false);
      if (fixCrc) {
        putInt(c, o + 8, TfRecord.maskedCrc32c(c, o, 8), 4, false);
      }
      return c;
    }
  }

  /** The offset of record {@code n} (modulo the count of well-framed records), or -1 when there is none. */
  static int recordOffset(byte[] b, int n) {
    List<Integer> offsets = new java.util.ArrayList<>();
    for (int o = 0; o + 12 <= b.length; ) {
      long length = ByteBuffer.wrap(b, o, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (length < 0 || length > b.length - o - 16) {
        break;
      }
      offsets.add(o);
      o += 16 + (int) length;
    }
    return offsets.isEmpty() ? -1 : offsets.get(n % offsets.size());
  }

  /**
   * Recomputes both CRCs of every record whose framing still holds, so that mutations of the data reach the
   * tf.Example parser instead of stopping at the CRC check.
   */
  static byte[] fixTfRecordCrcs(byte[] b) {
    byte[] c = b.clone();
    for (int o = 0; o + 12 <= c.length; ) {
      long length = ByteBuffer.wrap(c, o, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (length < 0 || length > c.length - o - 16) {
        break;
      }
      putInt(c, o + 8, TfRecord.maskedCrc32c(c, o, 8), 4, false);
      putInt(c, o + 12 + (int) length, TfRecord.maskedCrc32c(c, o + 12, (int) length), 4, false);
      o += 16 + (int) length;
    }
    return c;
  }

  /** Valid files, built once per kind: encoding images for every try would dominate the run time. */
  private static final Map<String, byte[]> VALID = new ConcurrentHashMap<>();

  static byte[] validTfRecord(Path dir, boolean images) {
    try {
      Example[] ex = new Example[3];
      for (int i = 0; i < ex.length; i++) {
        ex[i] =
            images
                ? TestFiles.imageExample(TestFiles.png(TestFiles.rgb(4, 5, i)), i % 2)
                : TestFiles.floatExample(new float[] {i, -i, 0.5f * i, 1, 2, 3}, new long[] {2, 3}, i % 3);
      }
      Path f = TestFiles.tfrecord(dir.resolve("valid.tfr"), ex);
      byte[] b = Files.readAllBytes(f);
      Files.delete(f);
      return b;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Provide
  Arbitrary<List<LengthLie>> lengthLies() {
    return Combinators.combine(Arbitraries.integers().between(0, 3), interestingLongs(), Arbitraries.of(true, false))
        .as(LengthLie::new)
        .list()
        .ofMaxSize(2);
  }

  @Property
  void tfrecord(
      @ForAll boolean images,
      @ForAll boolean fixCrcs,
      @ForAll("lengthLies") List<LengthLie> lies,
      @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path dir = tempDir();
    try {
      byte[] b = VALID.computeIfAbsent("tfrecord-" + images, k -> validTfRecord(dir, images));
      for (LengthLie lie : lies) {
        b = lie.apply(b);
      }
      b = mutate(b, mutations);
      if (fixCrcs) {
        b = fixTfRecordCrcs(b);
      }
      Path file = Files.write(dir.resolve("data.tfrecord"), b);
      Dataset d = readOrReject(dir, () -> DataSources.load(file.toString(), null, DataSources.Split.TRAIN));
      if (images) {
        assertUnitRange(d);
      }
    } finally {
      delete(dir);
    }
  }

  /**
   * Structured lies inside valid framing: tf.Examples whose shape, value count, label and keys are generated, so
   * the checks behind the CRCs (shape against values, label range, missing keys) are exercised directly.
   */
  @Property
  void tfrecordExamples(
      @ForAll("shapeLists") List<Long> shape,
      @ForAll @IntRange(min = 0, max = 12) int count,
      @ForAll("labelValues") long label,
      @ForAll("featureKeys") String featureKey,
      @ForAll("labelKeys") String labelKey,
      @ForAll @IntRange(min = 0, max = 2) int shapeMode,
      @ForAll @IntRange(min = 0, max = 3) int secondDiffers)
      throws IOException {
    Path dir = tempDir();
    try {
      float[] v = new float[count];
      for (int i = 0; i < count; i++) {
        v[i] = i * 0.25f;
      }
      // Mode 0 takes the generated (mostly lying) shape; 1 and 2 a fitting one, so that some tries get through.
      long[] s =
          shapeMode == 0
              ? (shape.isEmpty() ? null : shape.stream().mapToLong(Long::longValue).toArray())
              : shapeMode == 1 || count % 2 != 0 ? new long[] {count} : new long[] {2, count / 2};
      Example.Builder first = TestFiles.floatExample(v, s, label).toBuilder();
      org.tensorflow.proto.Features.Builder f = first.getFeaturesBuilder();
      if (!featureKey.equals("features")) {
        f.putFeature(featureKey, f.getFeatureMap().get("features")).removeFeature("features");
      }
      if (!labelKey.equals("label")) {
        f.putFeature(labelKey, f.getFeatureMap().get("label")).removeFeature("label");
      }
      Example second = TestFiles.floatExample(secondDiffers == 0 ? new float[] {1, 2, 3} : v, s, 0);
      Path file = TestFiles.tfrecord(dir.resolve("data.tfrecord"), first.build(), second);
      readOrReject(dir, () -> DataSources.load(file.toString(), null, DataSources.Split.TRAIN));
    } finally {
      delete(dir);
    }
  }

  @Provide
  Arbitrary<List<Long>> shapeLists() {
    return Arbitraries.oneOf(
            Arbitraries.of(0L, 1L, 2L, 3L, 4L, 6L, 7L, -1L, 0x6db6db6db6db6db7L, 1L << 32, 1L << 62, Long.MAX_VALUE),
            Arbitraries.longs().between(1, 12))
        .list()
        .ofMaxSize(4);
  }

  @Provide
  Arbitrary<Long> labelValues() {
    return Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.of(-1L, 0L, 1L, 2L, (1L << 20) - 1, 1L << 20, (long) Integer.MAX_VALUE, 1L << 40, Long.MIN_VALUE)),
        Tuple.of(3, Arbitraries.longs().between(0, 5)));
  }

  @Provide
  Arbitrary<String> featureKeys() {
    return Arbitraries.frequency(Tuple.of(6, "features"), Tuple.of(2, "x"), Tuple.of(2, "image"), Tuple.of(1, "image/encoded"), Tuple.of(1, "pixels"));
  }

  @Provide
  Arbitrary<String> labelKeys() {
    return Arbitraries.frequency(Tuple.of(6, "label"), Tuple.of(2, "y"), Tuple.of(2, "image/class/label"), Tuple.of(1, "class"));
  }

  // ---------------------------------------------------------------- image folders (PNG, JPEG, BMP)

  /** Recomputes the CRC of every PNG chunk whose framing still holds, so mutations reach the decoder. */
  static byte[] fixPngCrcs(byte[] b) {
    byte[] c = b.clone();
    for (int o = 8; o + 12 <= c.length; ) {
      long length = ByteBuffer.wrap(c, o, 4).getInt() & 0xffffffffL;
      if (o + 12 + length > c.length) {
        break;
      }
      CRC32 crc = new CRC32();
      crc.update(c, o + 4, 4 + (int) length);
      putInt(c, o + 8 + (int) length, crc.getValue(), 4, true);
      o += 12 + (int) length;
    }
    return c;
  }

  /** A PNG whose IHDR declares {@code width x height} (the pixel data is left as it was), CRC fixed. */
  static byte[] pngDimensionLie(byte[] png, long width, long height) {
    byte[] c = png.clone();
    putInt(c, 16, width, 4, true);
    putInt(c, 20, height, 4, true);
    return fixPngCrcs(c);
  }

  static byte[] encode(BufferedImage img, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertTrue(ImageIO.write(img, format, out), "no writer for " + format);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Property
  void imageFolder(
      @ForAll("imageFormats") String format,
      @ForAll @IntRange(min = 0, max = 3) int victim,
      @ForAll boolean fixCrcs,
      @ForAll("dimensionLies") List<Long> dims,
      @ForAll("mutations") List<Mutation> mutations)
      throws IOException {
    Path dir = tempDir();
    try {
      Path root = Files.createDirectories(dir.resolve("pets"));
      Path target = null;
      byte[] victimBytes = null;
      for (int i = 0; i < 4; i++) {
        Path cls = Files.createDirectories(root.resolve(i % 2 == 0 ? "cat" : "dog"));
        int seed = 10 * i;
        byte[] b = VALID.computeIfAbsent(format + i, k -> encode(TestFiles.rgb(6, 8, seed), format));
        Path f = Files.write(cls.resolve(i + "." + format), b);
        if (i == victim) {
          target = f;
          victimBytes = b;
        }
      }
      byte[] b = victimBytes;
      if (format.equals("png") && !dims.isEmpty()) {
        b = pngDimensionLie(b, dims.get(0), dims.get(dims.size() - 1));
      }
      b = mutate(b, mutations);
      if (format.equals("png") && fixCrcs) {
        b = fixPngCrcs(b);
      }
      Files.write(target, b);
      Dataset d = readOrReject(dir, () -> DataSources.load(root.toString(), null, DataSources.Split.TRAIN));
      assertUnitRange(d);
      if (d != null) {
        assertEquals(2, d.numClasses());
      }
    } finally {
      delete(dir);
    }
  }

  @Provide
  Arbitrary<String> imageFormats() {
    return Arbitraries.of("png", "jpg", "bmp", "gif");
  }

  @Provide
  Arbitrary<List<Long>> dimensionLies() {
    return Arbitraries.oneOf(
            Arbitraries.of(0L, 1L, 7L, 65535L, 100_000L, 1L << 20, (long) Integer.MAX_VALUE, 1L << 31, -1L),
            Arbitraries.longs().between(1, 64))
        .list()
        .ofMaxSize(2);
  }
}
