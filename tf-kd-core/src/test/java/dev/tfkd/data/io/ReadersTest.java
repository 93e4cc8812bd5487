package dev.tfkd.data.io;

import static dev.tfkd.testing.Assertions.assertAllClose;
import dev.tfkd.io.TfRecord;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.testing.Assertions;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every reader on files made here, well-formed and broken; formats detected through {@link DataSources}. */
class ReadersTest {
  @TempDir Path dir;

  /** Asserts one DataFormatException naming the file and containing every fragment. */
  static DataFormatException rejects(Path file, Executable read, String... fragments) {
    DataFormatException e = assertThrows(DataFormatException.class, read);
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
    }
    return e;
  }

  static Dataset load(Path p) {
    return DataSources.load(p.toString(), null, DataSources.Split.TRAIN);
  }

  // ---- IDX

  @Test
  void idxRawAndGzipReadTheSameScaledImages() throws Exception {
    Path raw = TestFiles.mnistLike(Files.createDirectory(dir.resolve("raw")), "train", 12, 5, 4, 3, false);
    Path gz = TestFiles.mnistLike(Files.createDirectory(dir.resolve("gz")), "train", 12, 5, 4, 3, true);
    Dataset a = load(raw);
    Dataset b = load(gz);
    assertArrayEquals(new long[] {5, 4, 1}, a.exampleShape());
    assertEquals(12, a.size());
    assertEquals(3, a.numClasses());
    assertEquals(2, a.labels()[5]);
    assertAllClose(a.features()[3 * 20 + 6], ((3 * 7 + 6) % 256) / 255f, Assertions.EXACT);
    assertAllClose(b.features(), a.features(), Assertions.EXACT);
    assertArrayEquals(a.labels(), b.labels());
    // A folder of train/t10k files is read by split.
    TestFiles.mnistLike(dir.resolve("gz"), "t10k", 6, 5, 4, 3, true);
    assertEquals(6, DataSources.load(dir.resolve("gz").toString(), null, DataSources.Split.TEST).size());
    assertEquals(12, DataSources.load(dir.resolve("gz").toString(), "idx", DataSources.Split.TRAIN).size());
  }

  @Test
  void idxBrokenFilesAreRejectedWithThePlace() throws Exception {
    // Wrong magic.
    Path badMagic = dir.resolve("x-images-idx3-ubyte");
    Files.write(badMagic, new byte[] {0, 1, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0});
    TestFiles.idx(dir.resolve("x-labels-idx1-ubyte"), new int[] {1}, new byte[] {0}, false);
    rejects(badMagic, () -> DataSources.load(badMagic.toString(), "idx", DataSources.Split.TRAIN, 0), "byte 0", "magic");

    // Header declaring far more data than the file holds: rejected before allocating (2^31 - 1 values would not fit).
    Path huge = TestFiles.idx(dir.resolve("h-images-idx3-ubyte"), new int[] {60000, 28, 28}, new byte[100], false);
    TestFiles.idx(dir.resolve("h-labels-idx1-ubyte"), new int[] {60000}, new byte[10], false);
    rejects(huge, () -> load(huge), "byte 16", "declares 47040000 bytes", "holds only 100");

    // The same, gzip-compressed: caught while reading, the buffer growing only with real data.
    Path hugeGz = TestFiles.idx(dir.resolve("g-images-idx3-ubyte.gz"), new int[] {60000, 28, 28}, new byte[100], true);
    TestFiles.idx(dir.resolve("g-labels-idx1-ubyte.gz"), new int[] {60000}, new byte[10], true);
    rejects(hugeGz, () -> load(hugeGz), "truncated");

    // A gzip file cut off in the middle of the pixels.
    Path whole = TestFiles.mnistLike(Files.createDirectory(dir.resolve("cut")), "train", 200, 28, 28, 10, true);
    byte[] gz = Files.readAllBytes(whole);
    Files.write(whole, Arrays.copyOf(gz, gz.length / 2));
    rejects(whole, () -> load(whole), "of the decompressed data", "truncated");

    // Truncated inside the header.
    Path shortHeader = dir.resolve("s-images-idx3-ubyte");
    Files.write(shortHeader, new byte[] {0, 0, 8, 3, 0, 0});
    TestFiles.idx(dir.resolve("s-labels-idx1-ubyte"), new int[] {1}, new byte[] {0}, false);
    rejects(shortHeader, () -> DataSources.load(shortHeader.toString(), "idx", DataSources.Split.TRAIN, 0), "truncated");

    // Label count differs from image count.
    Path images = TestFiles.idx(dir.resolve("c-images-idx3-ubyte"), new int[] {2, 2, 2}, new byte[8], false);
    Path labels = TestFiles.idx(dir.resolve("c-labels-idx1-ubyte"), new int[] {3}, new byte[3], false);
    rejects(labels, () -> load(images), "3 labels for 2 images");

    // Label out of the declared range.
    Path ok = TestFiles.mnistLike(Files.createDirectory(dir.resolve("range")), "train", 12, 2, 2, 12, false);
    rejects(
        ok.resolveSibling("train-labels-idx1-ubyte"),
        () -> DataSources.load(ok.toString(), null, DataSources.Split.TRAIN, 10), "label 10", "[0, 10)");

    // Missing labels file.
    Path alone = TestFiles.idx(dir.resolve("a-images-idx3-ubyte"), new int[] {1, 1, 1}, new byte[1], false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(alone));
    assertTrue(e.getMessage().contains("a-labels-idx1-ubyte"), e.getMessage());
  }

  // ---- CIFAR

  @Test
  void cifar10And100BinaryRecords() throws Exception {
    ByteArrayOutputStream c10 = new ByteArrayOutputStream();
    c10.write(TestFiles.cifarRecord(3));
    c10.write(TestFiles.cifarRecord(9));
    Path f10 = Files.write(dir.resolve("data_batch_1.bin"), c10.toByteArray());
    Dataset d = load(f10);
    assertEquals(10, d.numClasses());
    assertArrayEquals(new int[] {3, 9}, d.labels());
    assertArrayEquals(new long[] {32, 32, 3}, d.exampleShape());
    // Pixel p = 33 (row 1, col 1), channel 2 of example 1: (33 + 100 + 9) / 255, interleaved NHWC.
    assertAllClose(d.features()[3072 + 33 * 3 + 2], 142 / 255f, Assertions.EXACT);

    ByteArrayOutputStream c100 = new ByteArrayOutputStream();
    c100.write(TestFiles.cifarRecord(4, 77));
    Path f100 = Files.write(dir.resolve("train.bin"), c100.toByteArray());
    Dataset e = load(f100);
    assertEquals(100, e.numClasses());
    assertArrayEquals(new int[] {77}, e.labels());
    // The folder form reads by split.
    Files.write(dir.resolve("test_batch.bin"), TestFiles.cifarRecord(1));
    assertEquals(1, DataSources.load(dir.toString(), null, DataSources.Split.TEST).size());
  }

  @Test
  void cifarBrokenFiles() throws Exception {
    byte[] two = new byte[2 * 3073];
    System.arraycopy(TestFiles.cifarRecord(1), 0, two, 0, 3073);
    System.arraycopy(TestFiles.cifarRecord(2), 0, two, 3073, 3073);
    Path truncated = Files.write(dir.resolve("trunc.bin"), Arrays.copyOf(two, 3073 + 1000));
    rejects(truncated, () -> DataSources.load(truncated.toString(), "cifar10", DataSources.Split.TRAIN), "record 1", "byte 3073");
    two[3073] = 10;
    Path badLabel = Files.write(dir.resolve("label.bin"), two);
    rejects(badLabel, () -> load(badLabel), "record 1", "label 10");
  }

  // ---- CSV

  @Test
  void csvWithAndWithoutHeader() throws Exception {
    Path h = Files.writeString(dir.resolve("h.csv"), "a,b,label\n1.5,2,0\n\n-3,4e1,2\n");
    Dataset d = load(h);
    assertArrayEquals(new long[] {2}, d.exampleShape());
    assertAllClose(d.features(), new float[] {1.5f, 2f, -3f, 40f}, Assertions.EXACT);
    assertArrayEquals(new int[] {0, 2}, d.labels());
    assertEquals(3, d.numClasses());
    Path n = Files.writeString(dir.resolve("n.csv"), "1,2,1\n3,4,0\n");
    assertEquals(2, load(n).size());
    Path t = Files.writeString(dir.resolve("t.tsv"), "1\t2\t1\n");
    assertAllClose(load(t).features(), new float[] {1, 2}, Assertions.EXACT);
  }

  @Test
  void csvBrokenRows() throws Exception {
    Path wide = Files.writeString(dir.resolve("w.csv"), "x,y,label\n1,2,0\n1,2,3,0\n");
    rejects(wide, () -> load(wide), "line 3", "4 fields, expected 3");
    Path nan = Files.writeString(dir.resolve("nan.csv"), "1,abc,0\n");
    // A first row with a non-number is a header; then there is no data.
    rejects(nan, () -> load(nan), "no data rows");
    Path bad = Files.writeString(dir.resolve("bad.csv"), "1,2,0\n1,zz,0\n");
    rejects(bad, () -> load(bad), "line 2, column 2", "'zz'");
    Path neg = Files.writeString(dir.resolve("neg.csv"), "1,2,0\n1,2,-1\n");
    rejects(neg, () -> load(neg), "line 2", "label -1");
    Path frac = Files.writeString(dir.resolve("frac.csv"), "1,2,0.5\n");
    rejects(frac, () -> load(frac), "line 1", "not an integer");
  }

  // ---- Image folders

  @Test
  void imageFolderOneSubFolderPerClass() throws Exception {
    Path root = Files.createDirectory(dir.resolve("imgs"));
    Files.createDirectory(root.resolve("cat"));
    Files.createDirectory(root.resolve("dog"));
    ImageIO.write(TestFiles.rgb(6, 5, 1), "png", root.resolve("cat/a.png").toFile());
    ImageIO.write(TestFiles.rgb(6, 5, 2), "jpg", root.resolve("dog/b.jpg").toFile());
    ImageIO.write(TestFiles.rgb(6, 5, 3), "png", root.resolve("dog/c.PNG").toFile());
    Files.writeString(root.resolve("dog/README.txt"), "not an image");
    Dataset d = load(root);
    assertArrayEquals(new long[] {6, 5, 3}, d.exampleShape());
    assertArrayEquals(new int[] {0, 1, 1}, d.labels());
    assertEquals(2, d.numClasses());
    // PNG is lossless: pixel (y=2, x=3) of a.png is (1+3, 1+2, 3).
    int at = (2 * 5 + 3) * 3;
    assertAllClose(Arrays.copyOfRange(d.features(), at, at + 3), new float[] {4 / 255f, 3 / 255f, 3 / 255f}, Assertions.EXACT);

    // Grey images give one channel.
    Path grey = Files.createDirectories(dir.resolve("grey/zero"));
    BufferedImage g = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
    g.getRaster().setSample(1, 2, 0, 255);
    ImageIO.write(g, "png", grey.resolve("z.png").toFile());
    Dataset gd = load(dir.resolve("grey"));
    assertArrayEquals(new long[] {4, 4, 1}, gd.exampleShape());
    assertAllClose(gd.features()[2 * 4 + 1], 1f, Assertions.EXACT);
  }

  @Test
  void imageFolderRejectsMixedSizesAndCorruptImages() throws Exception {
    Path root = Files.createDirectories(dir.resolve("mixed/a"));
    ImageIO.write(TestFiles.rgb(6, 5, 1), "png", root.resolve("1.png").toFile());
    ImageIO.write(TestFiles.rgb(7, 5, 1), "png", root.resolve("2.png").toFile());
    Path second = root.resolve("2.png");
    rejects(second, () -> load(dir.resolve("mixed")), "7x5", "6x5");
    Path corrupt = Files.createDirectories(dir.resolve("corrupt/a")).resolve("x.png");
    Files.write(corrupt, "not a png at all".getBytes(StandardCharsets.UTF_8));
    rejects(corrupt, () -> load(dir.resolve("corrupt")), "decode");
  }

  // ---- TFRecord

  @Test
  void crc32cAndMaskMatchTheReference() {
    // RFC 3720 check value: CRC-32C of 32 zero bytes is 0x8a9136aa.
    CRC32C c = new CRC32C();
    c.update(new byte[32]);
    assertEquals(0x8a9136aaL, c.getValue());
    int crc = 0x8a9136aa;
    assertEquals(((crc >>> 15) | (crc << 17)) + 0xa282ead8, TfRecord.maskedCrc32c(new byte[32], 0, 32));
  }

  @Test
  void tfrecordEncodedImagesAndFloatFeatures() throws Exception {
    Path f =
        TestFiles.tfrecord(
            dir.resolve("img.tfrecord"),
            TestFiles.imageExample(TestFiles.png(TestFiles.rgb(4, 3, 5)), 2),
            TestFiles.imageExample(TestFiles.png(TestFiles.rgb(4, 3, 6)), 0));
    Dataset d = load(f);
    assertArrayEquals(new long[] {4, 3, 3}, d.exampleShape());
    assertArrayEquals(new int[] {2, 0}, d.labels());
    assertAllClose(d.features()[0], 5 / 255f, Assertions.EXACT);

    Path g =
        TestFiles.tfrecord(
            dir.resolve("f.tfrecords"),
            TestFiles.floatExample(new float[] {1, 2, 3, 4}, new long[] {2, 2, 1}, 1),
            TestFiles.floatExample(new float[] {5, 6, 7, 8}, new long[] {2, 2, 1}, 3));
    Dataset e = load(g);
    assertArrayEquals(new long[] {2, 2, 1}, e.exampleShape());
    assertAllClose(e.features(), new float[] {1, 2, 3, 4, 5, 6, 7, 8}, Assertions.EXACT);
    assertEquals(4, e.numClasses());
  }

  @Test
  void tfrecordBrokenFiles() throws Exception {
    Path good =
        TestFiles.tfrecord(
            dir.resolve("good.tfrecord"),
            TestFiles.floatExample(new float[] {1, 2}, null, 0),
            TestFiles.floatExample(new float[] {3, 4}, null, 1));
    byte[] bytes = Files.readAllBytes(good);
    int recordLength = bytes.length / 2;

    byte[] badData = bytes.clone();
    badData[recordLength + 14] ^= 1;
    Path f1 = Files.write(dir.resolve("data-crc.tfrecord"), badData);
    rejects(f1, () -> load(f1), "record 1", "byte " + recordLength, "bad CRC of the record data");

    byte[] badLength = bytes.clone();
    badLength[recordLength] ^= 1;
    Path f2 = Files.write(dir.resolve("length-crc.tfrecord"), badLength);
    rejects(f2, () -> load(f2), "record 1", "bad CRC of the record length");

    Path f3 = Files.write(dir.resolve("trunc.tfrecord"), Arrays.copyOf(bytes, bytes.length - 3));
    rejects(f3, () -> load(f3), "record 1", "truncated");

    // A length that passes its CRC but claims far more than the file: no allocation, an error.
    ByteBuffer huge = ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
    huge.putInt(TfRecord.maskedCrc32c(huge.array(), 0, 8));
    Path f4 = Files.write(dir.resolve("huge.tfrecord"), huge.array());
    rejects(f4, () -> load(f4), "record 0", "declares 1099511627776 bytes");

    Path mixed =
        TestFiles.tfrecord(
            dir.resolve("mixed.tfrecord"),
            TestFiles.floatExample(new float[] {1, 2}, null, 0),
            TestFiles.floatExample(new float[] {3, 4, 5}, null, 1));
    rejects(mixed, () -> load(mixed), "record 1", "shape [3]", "[2]");

    Path label =
        TestFiles.tfrecord(
            dir.resolve("label.tfrecord"),
            TestFiles.floatExample(new float[] {1, 2}, null, 0),
            TestFiles.floatExample(new float[] {3, 4}, null, 7));
    rejects(label, () -> DataSources.load(label.toString(), null, DataSources.Split.TRAIN, 5), "record 1", "label 7");

    Path noLabel = dir.resolve("nolabel.tfrecord");
    try (var out = Files.newOutputStream(noLabel)) {
      TfRecord.write(out, org.tensorflow.proto.Example.getDefaultInstance().toByteArray());
    }
    rejects(noLabel, () -> load(noLabel), "record 0", "no image");
  }

  @Test
  void unknownFilesAndFormatsAreBadInput() throws Exception {
    Path txt = Files.writeString(dir.resolve("notes.txt"), "hello");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load(txt));
    assertTrue(e.getMessage().contains("cannot tell the format"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSources.load(txt.toString(), "parquet", DataSources.Split.TRAIN));
    assertTrue(e.getMessage().contains("unknown data format 'parquet'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DataSources.load(dir.resolve("nope").toString(), null, DataSources.Split.TRAIN));
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    assertEquals(List.of("gmm", "shapes", "shapes28"), List.copyOf(DataSources.builtinNames()));
  }
}
