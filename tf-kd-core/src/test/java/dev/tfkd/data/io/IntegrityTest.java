package dev.tfkd.data.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression tests for integrity gaps: gzip trailers, bytes after IDX data, non-regular files in image folders,
 * unreadable files, each refused with a {@link DataFormatException} naming the file.
 */
class IntegrityTest {
  @TempDir Path dir;

  static DataFormatException refused(Path file, String format, String... parts) {
    return refusedIn(file, file, format, parts);
  }

  /** Loading {@code data} fails with one line that starts with {@code file} (the file at fault inside it). */
  static DataFormatException refusedIn(Path data, Path file, String format, String... parts) {
    DataFormatException e =
        assertThrows(DataFormatException.class, () -> DataSources.load(data.toString(), format, DataSources.Split.TRAIN));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), e.getMessage());
    }
    return e;
  }

  static byte[] gzip(byte[]... members) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] m : members) {
      ByteArrayOutputStream one = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(one)) {
        gz.write(m);
      }
      out.write(one.toByteArray());
    }
    return out.toByteArray();
  }

  /** The raw bytes of an IDX images file of n 3x4 images, pixel (i, p) = i * 7 + p. */
  private Path rawIdx(String sub) throws IOException {
    return TestFiles.mnistLike(Files.createDirectories(dir.resolve(sub)), "train", 5, 3, 4, 3, false);
  }

  @Test
  void aFlippedByteInTheGzipBodyIsCaughtByTheCrc() throws IOException {
    Path raw = rawIdx("raw");
    byte[] idx = Files.readAllBytes(raw);
    Path gzDir = Files.createDirectories(dir.resolve("gz"));
    Files.write(gzDir.resolve("train-labels-idx1-ubyte.gz"), gzip(Files.readAllBytes(raw.resolveSibling("train-labels-idx1-ubyte"))));
    Path images = gzDir.resolve("train-images-idx3-ubyte.gz");
    // Stored (uncompressed) deflate blocks keep the pixels as they are: a flipped pixel byte decodes cleanly to a
    // different value, which only the CRC-32 trailer can catch (what GZIPInputStream never checked, read short).
    byte[] gz = storedGzip(idx);
    Files.write(images, gz);
    assertEquals(5, DataSources.load(images.toString(), "idx", DataSources.Split.TRAIN).size());
    byte[] flipped = gz.clone();
    flipped[gz.length - 8 - 3] ^= 0x01; // a pixel of the last image
    Files.write(images, flipped);
    refused(images, "idx", "CRC-32 mismatch");
    // The length trailer (ISIZE), and the CRC itself.
    for (int at : new int[] {gz.length - 1, gz.length - 5}) {
      byte[] b = gz.clone();
      b[at] ^= 0x10;
      Files.write(images, b);
      refused(images, "idx", at == gz.length - 1 ? "length mismatch" : "CRC-32 mismatch");
    }
  }

  /** A gzip file holding {@code data} in one stored (uncompressed) deflate block. */
  static byte[] storedGzip(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
    out.write(1); // BFINAL = 1, BTYPE = 00 (stored)
    out.write(data.length & 0xff);
    out.write(data.length >> 8);
    out.write(~data.length & 0xff);
    out.write((~data.length >> 8) & 0xff);
    out.writeBytes(data);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(data);
    long c = crc.getValue();
    for (int i = 0; i < 4; i++) {
      out.write((int) (c >> (8 * i)) & 0xff);
    }
    for (int i = 0; i < 4; i++) {
      out.write((data.length >> (8 * i)) & 0xff);
    }
    return out.toByteArray();
  }

  @Test
  void gzipMembersAreConcatenatedButGarbageAfterThemIsRefused() throws IOException {
    Path raw = rawIdx("raw");
    byte[] idx = Files.readAllBytes(raw);
    Path gzDir = Files.createDirectories(dir.resolve("gz"));
    Files.write(gzDir.resolve("train-labels-idx1-ubyte.gz"), gzip(Files.readAllBytes(raw.resolveSibling("train-labels-idx1-ubyte"))));
    Path images = gzDir.resolve("train-images-idx3-ubyte.gz");
    // Split over two members: one stream, as gzip specifies.
    Files.write(images, gzip(Arrays.copyOf(idx, 30), Arrays.copyOfRange(idx, 30, idx.length)));
    Dataset d = DataSources.load(images.toString(), "idx", DataSources.Split.TRAIN);
    assertEquals(DataSources.load(raw.toString(), "idx", DataSources.Split.TRAIN).features()[59], d.features()[59]);
    // Eight bytes that are not a member.
    byte[] junk = new byte[] {1, 2, 3, 4, 5, 6, 7, 8};
    Files.write(images, concat(gzip(idx), junk));
    refused(images, "idx", "not another gzip member");
    // A second complete member holding more than the header declares.
    Files.write(images, gzip(idx, junk));
    refused(images, "idx", "8 bytes after the 60 bytes of data");
  }

  @Test
  void bytesAfterRawIdxDataAreRefused() throws IOException {
    Path images = rawIdx("raw");
    Files.write(images, concat(Files.readAllBytes(images), new byte[8]));
    refused(images, "idx", "byte 76", "8 bytes after the 60 bytes of data");
    refused(images, null, "8 bytes after");
  }

  @Test
  void aFifoInAnImageFolderIsRefusedByNameWithoutOpeningIt() throws Exception {
    Path root = imageFolder();
    Path fifo = root.resolve("dog/1.png");
    assumeTrue(mkfifo(fifo), "mkfifo is not available");
    // Opening the FIFO would block for ever: the timeout turns a hang into a failure.
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> refusedIn(root, fifo, null, "not a regular file"));
    // Named directly, the FIFO is refused too, without being opened.
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> refused(fifo, null, "not a regular file"));
    Files.delete(fifo);
    Path other = root.resolve("dog/notes");
    assumeTrue(mkfifo(other));
    assertTimeoutPreemptively(Duration.ofSeconds(30), () -> refusedIn(root, other, null, "not a regular file"));
  }

  @Test
  void aDanglingLinkInAnImageFolderIsRefused() throws IOException {
    Path root = imageFolder();
    Path link = Files.createSymbolicLink(root.resolve("cat/9.png"), dir.resolve("nowhere.png"));
    refusedIn(root, link, null, "a link to nothing");
  }

  private Path imageFolder() throws IOException {
    Path root = dir.resolve("pets");
    Files.createDirectories(root.resolve("cat"));
    Files.createDirectories(root.resolve("dog"));
    Files.write(root.resolve("cat/0.png"), TestFiles.png(TestFiles.rgb(6, 8, 1)));
    Files.write(root.resolve("dog/0.png"), TestFiles.png(TestFiles.rgb(6, 8, 2)));
    assertEquals(2, DataSources.load(root.toString(), null, DataSources.Split.TRAIN).size());
    return root;
  }

  static boolean mkfifo(Path p) {
    try {
      return new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * One file of every format that cannot be read: a link to {@code /proc/self/mem}, whose first page is unmapped, so
   * reading fails with an I/O error even for root (for whom chmod 000 changes nothing).
   */
  @Test
  void anUnreadableFileIsBadInputNamingItInEveryFormat() throws IOException {
    Path mem = Path.of("/proc/self/mem");
    assumeTrue(Files.exists(mem), "no /proc/self/mem (not Linux)");
    for (String[] c : unreadableCases()) {
      Path sub = Files.createDirectories(dir.resolve("u-" + c[1]));
      if (c[0].contains("images-idx3")) {
        TestFiles.mnistLike(sub, "train", 5, 3, 4, 3, c[0].endsWith(".gz"));
        Files.delete(sub.resolve(c[0]));
      }
      Path link = Files.createSymbolicLink(sub.resolve(c[0]), mem);
      refused(link, null, "cannot read");
    }
  }

  @Test
  void aFileWithoutReadPermissionIsBadInputNamingIt() throws IOException {
    assumeFalse("root".equals(System.getProperty("user.name")), "root reads files whatever their permissions");
    for (String[] c : unreadableCases()) {
      Path sub = Files.createDirectories(dir.resolve("p-" + c[1]));
      Path file;
      if (c[0].contains("images-idx3")) {
        file = TestFiles.mnistLike(sub, "train", 5, 3, 4, 3, c[0].endsWith(".gz"));
      } else if (c[1].equals("cifar10")) {
        file = Files.write(sub.resolve(c[0]), TestFiles.cifarRecord(3));
      } else if (c[1].equals("csv")) {
        file = Files.writeString(sub.resolve(c[0]), "1,2,0\n");
      } else {
        file = TestFiles.tfrecord(sub.resolve(c[0]), TestFiles.floatExample(new float[] {1, 2}, null, 0));
      }
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
      refused(file, null, "cannot read", "permission denied");
    }
    Path root = imageFolder();
    Path png = root.resolve("cat/0.png");
    Files.setPosixFilePermissions(png, PosixFilePermissions.fromString("---------"));
    refusedIn(root, png, null, "cannot read");
  }

  private static String[][] unreadableCases() {
    return new String[][] {
      {"train-images-idx3-ubyte", "idx"},
      {"train-images-idx3-ubyte.gz", "idx"},
      {"data_batch_1.bin", "cifar10"},
      {"data.csv", "csv"},
      {"data.tfrecord", "tfrecord"},
    };
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Test
  void theUnreadableProbeReallyFails() {
    // Guards the test above: if /proc/self/mem became readable at offset 0, it would test nothing.
    Path mem = Path.of("/proc/self/mem");
    assumeTrue(Files.exists(mem));
    assertThrows(IOException.class, () -> {
      try (var in = Files.newInputStream(mem)) {
        in.read();
      }
    });
    assertFalse(Files.isDirectory(mem));
  }
}
