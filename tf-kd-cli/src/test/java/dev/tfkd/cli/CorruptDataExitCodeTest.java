package dev.tfkd.cli;

import static dev.tfkd.cli.DemoCommandTest.tfkd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A corrupt data file of every format, read by {@code tfkd data}, ends with exit code 2 and one line on stderr naming
 * the file.
 */
class CorruptDataExitCodeTest {
  @TempDir Path dir;

  static void assertBadInput(Path file, DemoCommandTest.Run r) {
    assertEquals(2, r.code(), r.err());
    String[] lines = r.err().split("\n");
    assertEquals(1, lines.length, "not one line:\n" + r.err());
    assertTrue(lines[0].startsWith("tfkd data: "), lines[0]);
    assertTrue(lines[0].contains(file.toString()), lines[0]);
    assertEquals("", r.out());
  }

  @Test
  void validFileReads() throws IOException {
    Path images = TestFiles.mnistLike(dir, "train", 5, 3, 4, 3, true);
    DemoCommandTest.Run r = tfkd("data", images.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("examples: 5"), r.out());
  }

  @Test
  void corruptFileOfEveryFormatIsExitCode2AndOneLine() throws IOException {
    // IDX, gzip: truncated inside the compressed data.
    Path images = TestFiles.mnistLike(dir, "train", 5, 3, 4, 3, true);
    byte[] gz = Files.readAllBytes(images);
    Files.write(images, Arrays.copyOf(gz, gz.length - 10));
    assertBadInput(images, tfkd("data", images.toString()));

    // IDX, raw: a header declaring 2^31 - 1 images.
    Path raw = Files.createDirectories(dir.resolve("raw"));
    Path rawImages = TestFiles.mnistLike(raw, "train", 5, 3, 4, 3, false);
    byte[] b = Files.readAllBytes(rawImages);
    b[4] = 0x7f;
    b[5] = b[6] = b[7] = (byte) 0xff;
    Files.write(rawImages, b);
    assertBadInput(rawImages, tfkd("data", rawImages.toString()));

    // CIFAR-10: not a whole number of records.
    Path cifar = Files.write(dir.resolve("data_batch_1.bin"), Arrays.copyOf(TestFiles.cifarRecord(3), 3000));
    assertBadInput(cifar, tfkd("data", cifar.toString(), "--format", "cifar10"));

    // CSV: a label that is not an integer.
    Path csv = Files.writeString(dir.resolve("data.csv"), "x,label\n0.5,1\n0.25,one\n");
    assertBadInput(csv, tfkd("data", csv.toString()));

    // TFRecord: one flipped byte in the data (bad CRC).
    Path tfr =
        TestFiles.tfrecord(dir.resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, 2}, null, 0));
    byte[] t = Files.readAllBytes(tfr);
    t[14] ^= 0x40;
    Files.write(tfr, t);
    assertBadInput(tfr, tfkd("data", tfr.toString()));

    // Image folder: a PNG cut in half.
    Path root = dir.resolve("pets");
    Files.createDirectories(root.resolve("cat"));
    Files.createDirectories(root.resolve("dog"));
    byte[] png = TestFiles.png(TestFiles.rgb(6, 8, 1));
    Files.write(root.resolve("cat/0.png"), png);
    Path half = Files.write(root.resolve("dog/0.png"), Arrays.copyOf(png, png.length / 2));
    assertBadInput(half, tfkd("data", root.toString()));
  }
}
