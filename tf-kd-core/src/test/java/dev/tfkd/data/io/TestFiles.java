package dev.tfkd.data.io;

import dev.tfkd.io.TfRecord;
import com.google.protobuf.ByteString;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Int64List;

/** Writes small dataset files of every format, well-formed or broken, for the reader tests. */
public final class TestFiles {
  private TestFiles() {}

  /** An IDX file of unsigned bytes with the given dimensions (data may be shorter or longer than declared). */
  public static Path idx(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    b.put(data);
    byte[] bytes = b.array();
    if (gzip) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
        gz.write(bytes);
      }
      bytes = out.toByteArray();
    }
    Files.write(file, bytes);
    return file;
  }

  /** {@code n} images of rows x cols with pixel (i, p) = (i * 7 + p) mod 256, and labels i mod k. */
  public static Path mnistLike(Path dir, String prefix, int n, int rows, int cols, int k, boolean gzip) throws IOException {
    byte[] px = new byte[n * rows * cols];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < rows * cols; p++) {
        px[i * rows * cols + p] = (byte) ((i * 7 + p) % 256);
      }
    }
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      labels[i] = (byte) (i % k);
    }
    String gz = gzip ? ".gz" : "";
    idx(dir.resolve(prefix + "-labels-idx1-ubyte" + gz), new int[] {n}, labels, gzip);
    return idx(dir.resolve(prefix + "-images-idx3-ubyte" + gz), new int[] {n, rows, cols}, px, gzip);
  }

  /** A CIFAR record: label byte(s), then R, G, B planes where channel c of pixel p is (p + 50 c + label) mod 256. */
  public static byte[] cifarRecord(int... labels) {
    byte[] r = new byte[labels.length + 3072];
    for (int i = 0; i < labels.length; i++) {
      r[i] = (byte) labels[i];
    }
    int label = labels[labels.length - 1];
    for (int c = 0; c < 3; c++) {
      for (int p = 0; p < 1024; p++) {
        r[labels.length + c * 1024 + p] = (byte) ((p + 50 * c + label) % 256);
      }
    }
    return r;
  }

  public static byte[] png(BufferedImage img) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  public static BufferedImage rgb(int h, int w, int seed) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, ((seed + x) % 256) << 16 | ((seed + y) % 256) << 8 | (seed * 3 % 256));
      }
    }
    return img;
  }

  public static Example imageExample(byte[] encoded, long label) {
    return Example.newBuilder()
        .setFeatures(
            Features.newBuilder()
                .putFeature("image/encoded", Feature.newBuilder().setBytesList(BytesList.newBuilder().addValue(ByteString.copyFrom(encoded))).build())
                .putFeature("label", Feature.newBuilder().setInt64List(Int64List.newBuilder().addValue(label)).build()))
        .build();
  }

  public static Example floatExample(float[] values, long[] shape, long label) {
    FloatList.Builder fl = FloatList.newBuilder();
    for (float v : values) {
      fl.addValue(v);
    }
    Features.Builder f =
        Features.newBuilder()
            .putFeature("features", Feature.newBuilder().setFloatList(fl).build())
            .putFeature("label", Feature.newBuilder().setInt64List(Int64List.newBuilder().addValue(label)).build());
    if (shape != null) {
      Int64List.Builder s = Int64List.newBuilder();
      for (long d : shape) {
        s.addValue(d);
      }
      f.putFeature("shape", Feature.newBuilder().setInt64List(s).build());
    }
    return Example.newBuilder().setFeatures(f).build();
  }

  public static Path tfrecord(Path file, Example... examples) throws IOException {
    try (OutputStream out = Files.newOutputStream(file)) {
      for (Example e : examples) {
        TfRecord.write(out, e.toByteArray());
      }
    }
    return file;
  }

  /**
   * Writes {@code data} (images [H, W, 1] with values in [0, 1]) as a gzip IDX pair {@code prefix-images-idx3-ubyte.gz}
   * and {@code prefix-labels-idx1-ubyte.gz} in {@code dir}; returns the images file.
   */
  public static Path writeIdx(dev.tfkd.data.Dataset data, Path dir, String prefix) throws IOException {
    long[] s = data.exampleShape();
    byte[] px = new byte[data.features().length];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) Math.round(Math.min(1f, Math.max(0f, data.features()[i])) * 255f);
    }
    byte[] labels = new byte[data.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = (byte) data.labels()[i];
    }
    idx(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {data.size()}, labels, true);
    return idx(dir.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {data.size(), (int) s[0], (int) s[1]}, px, true);
  }
}
