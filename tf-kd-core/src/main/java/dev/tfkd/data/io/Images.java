package dev.tfkd.data.io;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Decodes PNG, JPEG (and other formats javax.imageio knows) into [0, 1] floats, height x width x channels. */
final class Images {
  private Images() {}

  /** A decoded image: {@code height * width * channels} values, channels 1 (grey) or 3 (RGB; alpha dropped). */
  record Pixels(int height, int width, int channels, float[] values) {
    /** The same image with 3 channels (grey replicated). */
    Pixels toRgb() {
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

  /** Decodes {@code bytes}; returns null when no installed reader recognises them. */
  static Pixels decode(byte[] bytes) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
    return img == null ? null : pixels(img);
  }

  static Pixels pixels(BufferedImage img) {
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
