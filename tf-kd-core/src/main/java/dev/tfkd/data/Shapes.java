package dev.tfkd.data;

import java.util.SplittableRandom;

/**
 * A built-in image classification problem, generated procedurally so every convolutional model can be tried
 * without a download: each class is a kind of shape or pattern drawn at a random position, size and colour on a
 * random background with pixel noise. Classes: 0 filled disc, 1 filled square, 2 triangle, 3 ring, 4 diagonal cross,
 * 5 plus sign, 6 horizontal stripes, 7 vertical stripes, 8 checkerboard, 9 diagonal stripes. A small CNN learns it
 * to high accuracy in a few epochs; an MLP finds it harder (the shapes move). Pixels in [0, 1]; everything follows
 * from the seed.
 *
 * @param height image height, at least 8
 * @param width image width, at least 8
 * @param channels 1 (grey) or 3 (colour)
 * @param numClasses 2 to 10 (the first classes of the list)
 */
public record Shapes(int height, int width, int channels, int numClasses) {
  /**
   * Validates the parameters; throws IllegalArgumentException for images smaller than 8x8 or channels other than 1 or
   * 3.
   */
  public Shapes {
    if (height < 8 || width < 8) {
      throw new IllegalArgumentException("shapes: images must be at least 8x8, got " + height + "x" + width);
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("shapes: channels must be 1 or 3, got " + channels);
    }
    if (numClasses < 2 || numClasses > 10) {
      throw new IllegalArgumentException("shapes: numClasses must be in [2, 10], got " + numClasses);
    }
  }

  /** {@code n} images with balanced labels (class {@code i % K}, then shuffled by the seed). */
  public Dataset sample(int n, long seed, String name) {
    SplittableRandom rng = new SplittableRandom(seed ^ 0x3C6EF372FE94F82BL);
    int e = height * width * channels;
    float[] x = new float[n * e];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % numClasses;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = y[i];
      y[i] = y[j];
      y[j] = t;
    }
    float[] fg = new float[channels];
    float[] bg = new float[channels];
    for (int i = 0; i < n; i++) {
      // Foreground bright, background dark, so the shape is always visible whatever the colours.
      for (int c = 0; c < channels; c++) {
        fg[c] = (float) (0.6 + 0.4 * rng.nextDouble());
        bg[c] = (float) (0.3 * rng.nextDouble());
      }
      double size = Math.min(height, width) * (0.25 + 0.15 * rng.nextDouble());
      double cy = size + rng.nextDouble() * Math.max(0, height - 2 * size);
      double cx = size + rng.nextDouble() * Math.max(0, width - 2 * size);
      double period = 3 + rng.nextInt(3);
      for (int py = 0; py < height; py++) {
        for (int px = 0; px < width; px++) {
          boolean on = inside(y[i], py + 0.5 - cy, px + 0.5 - cx, size, py, px, period);
          int base = i * e + (py * width + px) * channels;
          for (int c = 0; c < channels; c++) {
            double v = (on ? fg[c] : bg[c]) + 0.08 * (rng.nextDouble() - 0.5);
            x[base + c] = (float) Math.min(1, Math.max(0, v));
          }
        }
      }
    }
    return new Dataset(name, x, y, new long[] {height, width, channels}, numClasses, null);
  }

  private static boolean inside(int k, double dy, double dx, double r, int py, int px, double period) {
    double ay = Math.abs(dy);
    double ax = Math.abs(dx);
    double d = Math.sqrt(dy * dy + dx * dx);
    boolean inBox = ay <= r && ax <= r;
    double t = Math.max(1.0, r / 4);
    return switch (k) {
      case 0 -> d <= r;
      case 1 -> ay <= 0.8 * r && ax <= 0.8 * r;
      case 2 -> dy <= r && dy >= -r && ax <= (dy + r) / 2;
      case 3 -> d <= r && d >= r - t;
      case 4 -> inBox && Math.abs(ay - ax) <= t / 1.4;
      case 5 -> inBox && (ay <= t / 2 || ax <= t / 2);
      case 6 -> inBox && Math.floorMod(py, (int) period) < period / 2;
      case 7 -> inBox && Math.floorMod(px, (int) period) < period / 2;
      case 8 -> inBox && (Math.floorMod(py / 3 + px / 3, 2) == 0);
      default -> inBox && Math.floorMod(py + px, (int) period) < period / 2;
    };
  }
}
