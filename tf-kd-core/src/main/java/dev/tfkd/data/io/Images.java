package dev.tfkd.data.io;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG, JPEG (and other formats javax.imageio knows) into [0, 1] floats, height x width x channels: the one
 * pixel decoding, used by the image readers and by {@code Predictor}'s image predictions. Grey images are read from
 * their raster (not through sRGB conversion, which would change their values).
 */
public final class Images {
  private Images() {}

  /**
   * A decoded image: {@code height * width * channels} values in [0, 1], row-major, channels 1 (grey) or 3 (RGB;
   * alpha dropped).
   */
  public record Pixels(int height, int width, int channels, float[] values) {
    /** The same image with {@code c} channels: 3 replicates grey, 1 takes the luminance (ITU-R BT.601) of RGB. */
    public Pixels withChannels(int c) {
      if (c == channels) {
        return this;
      }
      if (c == 3) {
        return toRgb();
      }
      if (c != 1) {
        throw new IllegalArgumentException("images have 1 or 3 channels, not " + c);
      }
      float[] v = new float[height * width];
      for (int i = 0; i < v.length; i++) {
        v[i] = 0.299f * values[3 * i] + 0.587f * values[3 * i + 1] + 0.114f * values[3 * i + 2];
      }
      return new Pixels(height, width, 1, v);
    }

    /** The same image with 3 channels (grey replicated). */
    public Pixels toRgb() {
      if (channels == 3) {
        return this;
      }
      float[] v = new float[height * width * 3];
      for (int i = 0; i < height * width; i++) {
        v[3 * i] = v[3 * i + 1] = v[3 * i + 2] = values[i];
      }
      return new Pixels(height, width, 3, v);
    }
  }

  /**
   * Decodes {@code bytes}; returns null when no installed reader recognises them. The dimensions the header declares
   * are checked before any pixel is allocated: a few hundred bytes can declare a 40,000 x 40,000 image.
   */
  static Pixels decode(byte[] bytes) throws IOException {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        return null;
      }
      ImageReader reader = readers.next();
      try {
        checkEnd(reader.getFormatName(), bytes);
        reader.setInput(in, true, true);
        checkSize(reader.getWidth(0), reader.getHeight(0));
        return pixels(reader.read(0));
      } finally {
        reader.dispose();
      }
    }
  }

  private static final byte[] PNG_END = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xae, 0x42, 0x60, (byte) 0x82};

  /**
   * Refuses a PNG that does not end with its IEND chunk and a JPEG that does not end with its EOI marker (zero
   * padding after it allowed): javax.imageio decodes a file cut short after its last pixel data without a word, and
   * a truncated file is corrupt even when the cut happens to spare the pixels.
   */
  static void checkEnd(String format, byte[] bytes) {
    String f = format.toLowerCase(java.util.Locale.ROOT);
    if (f.equals("png")) {
      int at = bytes.length - PNG_END.length;
      if (at < 0 || !java.util.Arrays.equals(bytes, at, bytes.length, PNG_END, 0, PNG_END.length)) {
        throw new IllegalArgumentException("the PNG does not end with its IEND chunk (truncated, or data after it)");
      }
    } else if (f.equals("jpeg") || f.equals("jpg")) {
      int end = bytes.length;
      while (end > 0 && bytes[end - 1] == 0) {
        end--;
      }
      if (end < 2 || (bytes[end - 2] & 0xff) != 0xff || (bytes[end - 1] & 0xff) != 0xd9) {
        throw new IllegalArgumentException("the JPEG does not end with its EOI marker (truncated)");
      }
    }
  }

  /**
   * Refuses a declared size whose decoding would overflow an array or take more than half the heap: the decoder's
   * image (up to 4 bytes a pixel) plus 3 floats a pixel here and 3 more when the dataset is assembled. Half the
   * maximum heap rather than the free heap, so that the answer does not depend on when the collector last ran.
   */
  static void checkSize(int width, int height) {
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException("the header declares a " + width + "x" + height + " image");
    }
    long pixels = (long) width * height;
    if (3 * pixels > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException(
          "the header declares a " + width + "x" + height + " image, more pixels than an array holds");
    }
    long need = pixels * (4 + 2 * 3 * Float.BYTES);
    long heap = Runtime.getRuntime().maxMemory();
    if (need > heap / 2) {
      throw new IllegalArgumentException(
          "the header declares a " + width + "x" + height + " image, whose decoding needs " + (need >> 20)
              + " MiB, more than half the " + (heap >> 20) + " MiB heap (corrupt header, or raise -Xmx)");
    }
  }

  /** The pixels of {@code img} in [0, 1]: one channel for a single-component grey image, else RGB. */
  public static Pixels pixels(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    boolean grey =
        img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
            && img.getColorModel().getNumColorComponents() == 1;
    if (grey) {
      Raster r = img.getRaster();
      int bits = img.getColorModel().getComponentSize(0);
      float max = (float) ((1L << bits) - 1);
      float[] v = new float[h * w];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          v[y * w + x] = r.getSample(x, y, 0) / max;
        }
      }
      return new Pixels(h, w, 1, v);
    }
    float[] v = new float[h * w * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        int i = 3 * (y * w + x);
        v[i] = ((rgb >> 16) & 0xff) / 255f;
        v[i + 1] = ((rgb >> 8) & 0xff) / 255f;
        v[i + 2] = (rgb & 0xff) / 255f;
      }
    }
    return new Pixels(h, w, 3, v);
  }
}
