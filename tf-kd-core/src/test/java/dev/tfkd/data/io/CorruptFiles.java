package dev.tfkd.data.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/**
 * A campaign of corrupt dataset files, every one of which a reader must refuse: each is a valid file of one format
 * with one deliberate defect (truncated, extended, a header field or label out of range, a flipped byte under a
 * checksum, a malformed row, a broken image). Shared by the core campaign and the command-line test.
 */
public final class CorruptFiles {
  private CorruptFiles() {}

  /**
   * One corrupt input.
   *
   * @param name what was done, for the test's display name
   * @param data what to load (a file, or the folder holding it)
   * @param file the file at fault, which the error must name
   * @param format the format to pass, or {@code null} to let it be detected
   */
  public record Case(String name, Path data, Path file, String format) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** Writes every case into its own folder under {@code dir}. */
  public static List<Case> all(Path dir) throws IOException {
    List<Case> cases = new ArrayList<>();
    Campaign c = new Campaign(dir, cases);
    c.idxRaw();
    c.idxGzip();
    c.cifar();
    c.csv();
    c.tfrecord();
    c.images();
    return cases;
  }

  private static final class Campaign {
    private final Path dir;
    private final List<Case> cases;
    private int n;

    Campaign(Path dir, List<Case> cases) {
      this.dir = dir;
      this.cases = cases;
    }

    private Path folder() throws IOException {
      return Files.createDirectories(dir.resolve("c" + (n++)));
    }

    // ---------------------------------------------------------------- IDX, raw and gzip

    /** A raw IDX pair of 5 images of 3x4 in a fresh folder with the images replaced by {@code images}. */
    private void idx(String name, byte[] images, boolean gzip, String format) throws IOException {
      Path f = folder();
      Path file = TestFiles.mnistLike(f, "train", 5, 3, 4, 3, gzip);
      Files.write(file, images);
      cases.add(new Case(name, file, file, format));
    }

    void idxRaw() throws IOException {
      Path tmp = TestFiles.mnistLike(folder(), "train", 5, 3, 4, 3, false);
      byte[] ok = Files.readAllBytes(tmp);
      for (int len : new int[] {0, 1, 3, 4, 8, 15, 16, 40, 75}) {
        idx("idx truncated to " + len + " bytes", Arrays.copyOf(ok, len), false, "idx");
      }
      for (int extra = 1; extra <= 8; extra++) {
        idx("idx with " + extra + " trailing bytes", Arrays.copyOf(ok, ok.length + extra), false, "idx");
      }
      for (int type : new int[] {0x00, 0x07, 0x0a, 0x0f, 0xff}) {
        idx("idx type byte 0x" + Integer.toHexString(type), with(ok, 2, type), false, "idx");
      }
      for (int dims : new int[] {0, 1, 2, 4, 9, 0x7f}) {
        idx("idx with " + dims + " dimensions", with(ok, 3, dims), false, "idx");
      }
      for (int count : new int[] {0, 4, 6, 0x7fffffff, -1}) {
        byte[] b = ok.clone();
        ByteBuffer.wrap(b).putInt(4, count);
        idx("idx declaring " + count + " images", b, false, "idx");
      }
      idx("idx magic byte 0 set", with(ok, 0, 1), false, "idx");
      idx("idx magic byte 1 set", with(ok, 1, 8), false, "idx");
      // The labels file at fault: one label missing, one too many.
      for (int labels : new int[] {4, 6}) {
        Path f = folder();
        Path images = TestFiles.mnistLike(f, "train", 5, 3, 4, 3, false);
        Path l = f.resolve("train-labels-idx1-ubyte");
        TestFiles.idx(l, new int[] {labels}, new byte[labels], false);
        cases.add(new Case("idx with " + labels + " labels for 5 images", images, l, "idx"));
      }
    }

    void idxGzip() throws IOException {
      Path tmp = TestFiles.mnistLike(folder(), "train", 5, 3, 4, 3, true);
      byte[] ok = Files.readAllBytes(tmp);
      // Every byte of the header's checked fields and of the compressed data and trailer; the modification time,
      // extra flags and OS bytes (4..9) are not checked by any gzip reader.
      for (int i = 0; i < ok.length; i++) {
        if (i >= 4 && i <= 9) {
          continue;
        }
        idx("idx.gz byte " + i + " flipped", with(ok, i, ok[i] ^ 0xff), true, null);
      }
      for (int len : new int[] {0, 2, 9, 12, ok.length / 2, ok.length - 9, ok.length - 8, ok.length - 4, ok.length - 1}) {
        idx("idx.gz truncated to " + len + " bytes", Arrays.copyOf(ok, len), true, "idx");
      }
      idx("idx.gz with 8 bytes of garbage after the member", concat(ok, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), true, "idx");
      idx("idx.gz with a second member of 8 bytes", concat(ok, gzip(new byte[8])), true, "idx");
      Path raw = TestFiles.mnistLike(folder(), "train", 5, 3, 4, 3, false);
      byte[] rawOk = Files.readAllBytes(raw);
      idx("idx.gz holding 8 bytes more than declared", gzip(Arrays.copyOf(rawOk, rawOk.length + 8)), true, "idx");
      idx("idx.gz holding 1 byte less than declared", gzip(Arrays.copyOf(rawOk, rawOk.length - 1)), true, "idx");
    }

    // ---------------------------------------------------------------- CIFAR

    private void cifar(String name, String fileName, byte[] bytes, String format) throws IOException {
      Path file = Files.write(folder().resolve(fileName), bytes);
      cases.add(new Case(name, file, file, format));
    }

    void cifar() throws IOException {
      byte[] two = concat(TestFiles.cifarRecord(3), TestFiles.cifarRecord(7));
      for (int cut : new int[] {1, 100, 3072, 3073 + 3072}) {
        cifar("cifar10 missing its last " + cut + " bytes", "data_batch_1.bin", Arrays.copyOf(two, two.length - cut), "cifar10");
      }
      for (int extra : new int[] {1, 3072}) {
        cifar("cifar10 with " + extra + " extra bytes", "data_batch_1.bin", Arrays.copyOf(two, two.length + extra), "cifar10");
      }
      for (int label : new int[] {10, 128, 255}) {
        cifar("cifar10 label " + label + " in record 0", "data_batch_1.bin", with(two, 0, label), "cifar10");
        cifar("cifar10 label " + label + " in record 1", "data_batch_1.bin", with(two, 3073, label), "cifar10");
      }
      cifar("cifar10 empty", "data_batch_1.bin", new byte[0], "cifar10");
      byte[] c100 = concat(TestFiles.cifarRecord(2, 30), TestFiles.cifarRecord(19, 99));
      cifar("cifar100 coarse label 20", "train.bin", with(c100, 0, 20), "cifar100");
      cifar("cifar100 fine label 100", "train.bin", with(c100, 3074 + 1, 100), "cifar100");
      cifar("cifar100 missing 1 byte", "train.bin", Arrays.copyOf(c100, c100.length - 1), "cifar100");
      cifar("bin file of neither record size", "test_batch.bin", Arrays.copyOf(two, 5000), null);
    }

    // ---------------------------------------------------------------- CSV

    void csv() throws IOException {
      String[][] bad = {
        {"csv row too short", "x,y,label\n1,2,0\n3,1\n"},
        {"csv row too long", "1,2,0\n3,4,5,1\n"},
        {"csv feature not a number", "1,2,0\n3,abc,1\n"},
        {"csv feature NaN", "1,2,0\nNaN,4,1\n"},
        {"csv feature infinite", "1,2,0\n3,Infinity,1\n"},
        {"csv feature overflowing float", "1,2,0\n3,1e999,1\n"},
        {"csv label negative", "1,2,0\n3,4,-1\n"},
        {"csv label fractional", "1,2,0\n3,4,1.5\n"},
        {"csv label a word", "1,2,0\n3,4,one\n"},
        {"csv label huge", "1,2,0\n3,4,99999999999\n"},
        {"csv empty", ""},
        {"csv header only", "x,y,label\n"},
        {"csv blank lines only", "\n\n\n"},
        {"csv empty field", "1,2,0\n3,,1\n"},
        {"csv one column", "0\n1\n"},
      };
      for (String[] b : bad) {
        Path file = Files.writeString(folder().resolve("data.csv"), b[1]);
        cases.add(new Case(b[0], file, file, null));
      }
      Path bin = Files.write(folder().resolve("data.csv"), new byte[] {'1', ',', (byte) 0xff, (byte) 0xfe, ',', '0', '\n'});
      cases.add(new Case("csv not UTF-8", bin, bin, null));
      Path tsv = Files.writeString(folder().resolve("data.tsv"), "1\t2\t0\n3,4,1\n");
      cases.add(new Case("tsv row with commas", tsv, tsv, null));
    }

    // ---------------------------------------------------------------- TFRecord

    void tfrecord() throws IOException {
      Path tmp =
          TestFiles.tfrecord(folder().resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, 2}, null, 0));
      byte[] ok = Files.readAllBytes(tmp);
      // Every byte is under a CRC: the length under the length's CRC, the data under the data's.
      for (int i = 0; i < ok.length; i++) {
        Path file = Files.write(folder().resolve("data.tfrecord"), with(ok, i, ok[i] ^ 0x01));
        cases.add(new Case("tfrecord byte " + i + " flipped", file, file, null));
      }
      for (int len : new int[] {0, 1, 8, 11, 12, 20, ok.length - 4, ok.length - 1}) {
        Path file = Files.write(folder().resolve("data.tfrecord"), Arrays.copyOf(ok, len));
        cases.add(new Case("tfrecord truncated to " + len + " bytes", file, file, null));
      }
      Path garbage = Files.write(folder().resolve("data.tfrecord"), concat(ok, new byte[8]));
      cases.add(new Case("tfrecord with 8 zero bytes after the record", garbage, garbage, null));
      Path label =
          TestFiles.tfrecord(folder().resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, 2}, null, -3));
      cases.add(new Case("tfrecord negative label", label, label, null));
      Path shape =
          TestFiles.tfrecord(
              folder().resolve("data.tfrecord"), TestFiles.floatExample(new float[] {1, 2, 3}, new long[] {2, 2}, 0));
      cases.add(new Case("tfrecord shape not matching its values", shape, shape, null));
    }

    // ---------------------------------------------------------------- image folders

    private Path imageFolder(byte[] dogImage, String dogName) throws IOException {
      Path root = folder().resolve("pets");
      Files.createDirectories(root.resolve("cat"));
      Files.createDirectories(root.resolve("dog"));
      Files.write(root.resolve("cat/0.png"), TestFiles.png(TestFiles.rgb(6, 8, 1)));
      Files.write(root.resolve("cat/1.png"), TestFiles.png(TestFiles.rgb(6, 8, 3)));
      return Files.write(root.resolve("dog/" + dogName), dogImage);
    }

    private void image(String name, byte[] bytes, String fileName) throws IOException {
      Path file = imageFolder(bytes, fileName);
      cases.add(new Case(name, file.getParent().getParent(), file, null));
    }

    void images() throws IOException {
      byte[] png = TestFiles.png(TestFiles.rgb(6, 8, 2));
      for (int len : new int[] {0, 8, 16, 33, png.length / 2, png.length - 12}) {
        image("png truncated to " + len + " bytes", Arrays.copyOf(png, len), "0.png");
      }
      byte[] jpeg = jpeg();
      for (int len : new int[] {0, 2, 20, 100}) {
        image("jpeg truncated to " + len + " bytes", Arrays.copyOf(jpeg, len), "0.jpg");
      }
      image("text named .png", "not an image\n".getBytes(StandardCharsets.UTF_8), "0.png");
      image("png of another size", TestFiles.png(TestFiles.rgb(7, 8, 2)), "0.png");
      image("gif header only", "GIF89a".getBytes(StandardCharsets.US_ASCII), "0.gif");
      image("bmp header only", new byte[] {'B', 'M', 0, 0, 0, 0}, "0.bmp");
    }
  }

  static byte[] jpeg() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(TestFiles.rgb(6, 8, 2), "jpg", out);
    return out.toByteArray();
  }

  static byte[] with(byte[] b, int at, int value) {
    byte[] c = b.clone();
    c[at] = (byte) value;
    return c;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    }
    return out.toByteArray();
  }
}
