package dev.tfkd.data.io;

import dev.tfkd.io.TfRecord;
import static dev.tfkd.data.io.ReadersTest.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.DataChecks;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile files pinned as examples: each reader bug the properties of {@link HostileInputTest} found, and the
 * extreme declared sizes the issue names (IDX dimensions of 2^31 - 1, a TFRecord length of 2^60, a CIFAR file that
 * is not a whole number of records, a PNG declaring 40,000 x 40,000 pixels), each read under a timeout.
 */
class HostileInputExamplesTest {
  @TempDir Path dir;

  static Dataset load(Path p, String format) {
    return assertTimeoutPreemptively(
        Duration.ofSeconds(10), () -> DataSources.load(p.toString(), format, DataSources.Split.TRAIN));
  }

  static byte[] idxHeader(int type, int... dims) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
    b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    return b.array();
  }

  static byte[] concat(byte[]... parts) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.write(p);
    }
    return out.toByteArray();
  }

  // ---------------------------------------------------------------- IDX

  @Test
  void idxZeroDimensionIsRejectedNotAnEmptyDataset() throws IOException {
    // Found by the idx property: [5, 0, 4] made the Dataset constructor fail with "bad example shape".
    Path images = TestFiles.mnistLike(dir, "train", 5, 3, 4, 3, false);
    Files.write(images, concat(idxHeader(0x08, 5, 0, 4), new byte[60]));
    rejects(images, () -> load(images, "idx"), "byte 8", "dimension 1 of the images is 0");
    Files.write(images, idxHeader(0x08, 0, 3, 4));
    TestFiles.idx(dir.resolve("train-labels-idx1-ubyte"), new int[] {0}, new byte[0], false);
    rejects(images, () -> load(images, "idx"), "byte 4", "dimension 0 of the images is 0");
  }

  @Test
  void idxDimensionsOf2To31Minus1AreCheckedBeforeAllocating() throws IOException {
    for (boolean gzip : new boolean[] {false, true}) {
      Path images = TestFiles.mnistLike(dir, "train", 5, 3, 4, 3, gzip);
      byte[] header = idxHeader(0x08, Integer.MAX_VALUE, 1, 1);
      Files.write(images, gzip ? HostileInputTest.gzip(concat(header, new byte[60])) : concat(header, new byte[60]));
      rejects(images, () -> load(images, null), "header", "declares more than 2^31 values");
      // 2^24 bytes declared, 60 held: an error after reading what there is, not an allocation of the declared size.
      byte[] lie = concat(idxHeader(0x08, 1 << 24, 1, 1), new byte[60]);
      Files.write(images, gzip ? HostileInputTest.gzip(lie) : lie);
      rejects(images, () -> load(images, null), "declares 16777216 bytes", "truncated file or wrong header");
      // Two dimensions of 2^31 - 1: more values than an array holds.
      byte[] two = idxHeader(0x08, 5, Integer.MAX_VALUE, Integer.MAX_VALUE);
      Files.write(images, gzip ? HostileInputTest.gzip(two) : two);
      rejects(images, () -> load(images, null), "more than 2^31 values");
    }
  }

  @Test
  void gzipIdxDeclaringMoreThanTheHeapHoldsIsRefusedBeforeReading() throws IOException {
    // A gzip file's size says nothing of its content (zeros compress a thousandfold): the declared values are
    // checked against the heap before any is read.
    long heap = Runtime.getRuntime().maxMemory();
    int n = (int) Math.min(Integer.MAX_VALUE - 16, heap / 2 / 6 + 1);
    org.junit.jupiter.api.Assumptions.assumeTrue(n < Integer.MAX_VALUE - 16, "heap too large for this example");
    Path images = TestFiles.mnistLike(dir, "train", 5, 3, 4, 3, true);
    Files.write(images, HostileInputTest.gzip(concat(idxHeader(0x08, n, 1, 1), new byte[60])));
    rejects(images, () -> load(images, null), "header", "the " + n + " values the header declares would need", "heap");
  }

  @Test
  void checkHeapNamesTheFileAndTheNeed() {
    Path f = dir.resolve("x.bin");
    Bytes.checkHeap(f, "byte 4", 1 << 20, "small");
    rejects(f, () -> Bytes.checkHeap(f, "byte 4", Long.MAX_VALUE, "this"), "byte 4", "this would need", "MiB heap");
    rejects(f, () -> Bytes.checkHeap(f, "byte 4", -1, "overflowed"), "over 2^63 bytes");
  }

  @Test
  void idxInt32LabelOf2To31Minus1IsOutOfRangeNotAnOverflowedClassCount() throws IOException {
    // A label of Integer.MAX_VALUE made "largest label + 1" overflow to a negative class count.
    Path images = TestFiles.mnistLike(dir, "train", 2, 3, 4, 3, false);
    Path labels = dir.resolve("train-labels-idx1-ubyte");
    Files.write(labels, concat(idxHeader(0x0C, 2), ByteBuffer.allocate(8).putInt(1).putInt(Integer.MAX_VALUE).array()));
    rejects(labels, () -> load(images, null), "label 1", "not a class in [0, 1048576)");
  }

  @Test
  void idxTruncatedGzipSaysSo() throws IOException {
    Path images = TestFiles.mnistLike(dir, "train", 5, 3, 4, 3, true);
    byte[] b = Files.readAllBytes(images);
    Files.write(images, Arrays.copyOf(b, b.length - 12));
    rejects(images, () -> load(images, null), "gzip stream is truncated or corrupt");
  }

  @Test
  void idxFloatNaNIsRejectedWithItsIndex() throws IOException {
    Path images = TestFiles.mnistLike(dir, "train", 1, 1, 2, 1, false);
    Files.write(images, concat(idxHeader(0x0D, 1, 1, 2), ByteBuffer.allocate(8).putFloat(0.5f).putFloat(Float.NaN).array()));
    rejects(images, () -> load(images, null), "value 1", "not a finite number");
  }

  // ---------------------------------------------------------------- TFRecord

  @Test
  void tfrecordLengthNear2To63WithAValidCrcIsRejected() throws IOException {
    // Found by the tfrecord property: "length + 4 > left" overflowed for Long.MAX_VALUE and readNBytes got -2.
    for (long length : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 3, 1L << 60, 1L << 31}) {
      Path file =
          TestFiles.tfrecord(dir.resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, 2}, null, 0));
      byte[] b = Files.readAllBytes(file);
      HostileInputTest.putInt(b, 0, length, 8, false);
      HostileInputTest.putInt(b, 8, TfRecord.maskedCrc32c(b, 0, 8), 4, false);
      Files.write(file, b);
      rejects(file, () -> load(file, null), "record 0 (byte 0)", "record declares " + length + " bytes");
    }
  }

  @Test
  void tfrecordShapeWhoseProductWrapsAroundIsRejected() throws IOException {
    // 6 * 7 * 0x6db6db6db6db6db7 is 6 modulo 2^64: the product in longs accepted a shape of 2^63 values for 6
    // values, and the Dataset constructor (whose product wraps the same way) let it through.
    long[] shape = {6, 7, 0x6db6db6db6db6db7L};
    assertEquals(6, shape[0] * shape[1] * shape[2]);
    Path file =
        TestFiles.tfrecord(dir.resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, 2, 3, 4, 5, 6}, shape, 0));
    rejects(file, () -> load(file, null), "record 0", "does not fit the 6 values");
  }

  @Test
  void keysQuotedFromTheFileCannotBreakTheMessageIntoLines() throws IOException {
    // Found by the tfrecord property (10,000 tries): a mutated key "imag\nencoded" was quoted verbatim, and the
    // command line, which prints the first line of a message, cut the error in half.
    org.tensorflow.proto.Features.Builder f = org.tensorflow.proto.Features.newBuilder();
    f.putFeature("imag\n\u001b[31mencoded", org.tensorflow.proto.Feature.getDefaultInstance());
    for (int i = 0; i < 200; i++) {
      f.putFeature("key" + i, org.tensorflow.proto.Feature.getDefaultInstance());
    }
    Path file =
        TestFiles.tfrecord(dir.resolve("data.tfrecord"), org.tensorflow.proto.Example.newBuilder().setFeatures(f).build());
    DataFormatException e = rejects(file, () -> load(file, null), "record 0", "no image");
    assertTrue(e.getMessage().contains("imag\\u000a\\u001b[31mencoded"), e.getMessage());
    assertTrue(e.getMessage().lines().count() == 1, e.getMessage());
    assertEquals(DataFormatException.MAX_LENGTH + 3, e.getMessage().length(), e.getMessage());
    assertTrue(e.getMessage().endsWith("..."), e.getMessage());
  }

  @Test
  void tfrecordHugeLabelIsOutOfRange() throws IOException {
    Path file =
        TestFiles.tfrecord(dir.resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, 2}, null, 1L << 40));
    rejects(file, () -> load(file, null), "record 0", "outside [0, 1048576)");
  }

  @Test
  void tfrecordNonFiniteFloatIsRejected() throws IOException {
    Path file =
        TestFiles.tfrecord(
            dir.resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, Float.POSITIVE_INFINITY}, null, 0));
    rejects(file, () -> load(file, null), "record 0", "value 1 is not finite");
  }

  // ---------------------------------------------------------------- CIFAR

  @Test
  void cifarSizeNotAWholeNumberOfRecordsIsRejected() throws IOException {
    byte[] rec = TestFiles.cifarRecord(3);
    Path file = Files.write(dir.resolve("data_batch_1.bin"), concat(rec, rec, Arrays.copyOf(rec, 100)));
    rejects(file, () -> load(file, "cifar10"), "record 2 (byte 6146)", "not a whole number");
    rejects(file, () -> load(file, null), "whole number of neither");
  }

  @Test
  void cifar100CoarseLabelOutOfRangeIsRejected() throws IOException {
    Path file = Files.write(dir.resolve("train.bin"), concat(TestFiles.cifarRecord(3, 30), TestFiles.cifarRecord(20, 30)));
    rejects(file, () -> load(file, "cifar100"), "record 1 (byte 3074)", "coarse label 20 is outside [0, 20)");
  }

  // ---------------------------------------------------------------- pipes

  @Test
  void namedPipeIsRefusedInsteadOfBlocking() throws Exception {
    Path fifo = dir.resolve("data.csv");
    int rc;
    try {
      rc = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
    } catch (IOException e) {
      rc = -1;
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(rc == 0 && Files.exists(fifo), "mkfifo unavailable");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(fifo, null));
    assertTrue(e.getMessage().startsWith(fifo + ": not a regular file or a folder"), e.getMessage());
  }

  // ---------------------------------------------------------------- CSV

  @Test
  void csvLabelOf2To31Minus1IsOutOfRangeNotAnOverflowedClassCount() throws IOException {
    // "largest label + 1" overflowed to a negative class count, rejected by Dataset without the file's place.
    Path file = Files.writeString(dir.resolve("data.csv"), "x,label\n0.5,1\n0.25,2147483647\n");
    rejects(file, () -> load(file, null), "line 3, column 2", "outside [0, 1048576)");
  }

  @Test
  void csvThatIsNotUtf8NamesTheLine() throws IOException {
    byte[] text = "x,label\n0.5,1\n".getBytes(StandardCharsets.UTF_8);
    Path file = Files.write(dir.resolve("data.csv"), concat(text, new byte[] {'0', (byte) 0xff, ',', '1', '\n'}));
    rejects(file, () -> load(file, null), "line 3", "not UTF-8 text");
  }

  @Test
  void csvNaNFeatureIsRejected() throws IOException {
    Path file = Files.writeString(dir.resolve("data.csv"), "x,y,label\n0.5,1,1\n0.25,NaN,0\n");
    rejects(file, () -> load(file, null), "line 3, column 2", "not a finite number");
  }

  // ---------------------------------------------------------------- images

  @Test
  void pngDeclaringHugeDimensionsIsRejectedBeforeDecoding() throws IOException {
    // A 100-byte PNG can declare billions of pixels; the decoder would allocate them before finding no data.
    byte[] png = TestFiles.png(TestFiles.rgb(6, 8, 1));
    for (long[] wh : new long[][] {{40_000, 40_000}, {20_000, 20_000}, {Integer.MAX_VALUE, 1}, {0, 5}}) {
      Path root = dir.resolve("pets-" + wh[0] + "x" + wh[1]);
      Files.createDirectories(root.resolve("cat"));
      Files.createDirectories(root.resolve("dog"));
      Files.write(root.resolve("cat/0.png"), png);
      Path bad = Files.write(root.resolve("dog/0.png"), HostileInputTest.pngDimensionLie(png, wh[0], wh[1]));
      rejects(bad, () -> load(root, null), "cannot decode the image");
    }
  }

  @Test
  void imageFilePastTwoGibibytesIsRejectedNotAnOutOfMemoryError() throws IOException {
    // Files.readAllBytes throws OutOfMemoryError("Required array size too large") past 2 GiB. A sparse file
    // costs no disk.
    Path root = dir.resolve("pets");
    Files.createDirectories(root.resolve("cat"));
    Path big = root.resolve("cat/0.png");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(big.toFile(), "rw")) {
      f.setLength((1L << 31) + 100);
    }
    rejects(big, () -> load(root, null), "bytes");
  }

  @Test
  void checkSizeAcceptsOrdinaryImagesAndNamesTheDeclaredSize() {
    Images.checkSize(224, 224);
    Images.checkSize(4000, 3000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Images.checkSize(46_341, 46_341));
    assertTrue(e.getMessage().contains("46341x46341"), e.getMessage());
  }

  // ---------------------------------------------------------------- non-finite features from the Java API

  @Test
  void requireFiniteNamesTheExampleAndFeature() {
    float[] x = {0, 1, 2, 3, 4, Float.NaN};
    Dataset d = new Dataset("mine", x, new int[] {0, 1, 0}, new long[] {2}, 2, null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataChecks.requireFinite(d));
    assertEquals("mine: example 2, feature 1 is NaN (features must be finite numbers)", e.getMessage());
    float[] inf = {0, Float.NEGATIVE_INFINITY};
    Dataset d2 = new Dataset("mine", inf, new int[] {0}, new long[] {2}, 2, null);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DataChecks.requireFinite(d2)).getMessage().contains("-Infinity"));
    Dataset ok = new Dataset("mine", new float[] {0, 1}, new int[] {0}, new long[] {2}, 2, null);
    assertSame(ok, DataChecks.requireFinite(ok));
  }
}
