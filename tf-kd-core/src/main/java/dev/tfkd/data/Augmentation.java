package dev.tfkd.data;

import java.util.SplittableRandom;

/**
 * Image augmentation applied to training batches: a random crop after zero-padding by {@code padding} pixels on
 * every side (the standard CIFAR recipe: pad 4, crop back to 32x32) and a horizontal flip with probability 1/2.
 * Works on NHWC examples; random choices come from the caller's seeded generator, so a run is reproducible.
 *
 * @param padding pixels of zero padding before the random crop, >= 0 (0: no crop)
 * @param flip whether to flip horizontally half of the time
 */
public record Augmentation(int padding, boolean flip) {
  public Augmentation {
    if (padding < 0) {
      throw new IllegalArgumentException("padding must be >= 0, got " + padding);
    }
  }

  /** The CIFAR recipe: pad 4, random crop, horizontal flip. */
  public static Augmentation cifar() {
    return new Augmentation(4, true);
  }

  /**
   * Augments {@code n} examples of shape {@code [H, W, C]} stored in {@code batch} in place.
   *
   * @param scratch a buffer of at least {@code H * W * C} floats, reused between calls
   */
  public void apply(float[] batch, int n, long[] shape, SplittableRandom rng, float[] scratch) {
    if (shape.length != 3) {
      throw new IllegalArgumentException("augmentation needs images [H, W, C], got " + java.util.Arrays.toString(shape));
    }
    int h = (int) shape[0];
    int w = (int) shape[1];
    int c = (int) shape[2];
    int e = h * w * c;
    for (int i = 0; i < n; i++) {
      int dy = padding == 0 ? 0 : rng.nextInt(2 * padding + 1) - padding;
      int dx = padding == 0 ? 0 : rng.nextInt(2 * padding + 1) - padding;
      boolean mirror = flip && rng.nextBoolean();
      if (dy == 0 && dx == 0 && !mirror) {
        continue;
      }
      System.arraycopy(batch, i * e, scratch, 0, e);
      for (int y = 0; y < h; y++) {
        int sy = y + dy;
        for (int x = 0; x < w; x++) {
          // Output pixel x reads the padded image at x + dx; mirrored, it reads from the other side.
          int sx = (mirror ? w - 1 - x : x) + dx;
          int dst = i * e + (y * w + x) * c;
          if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
            java.util.Arrays.fill(batch, dst, dst + c, 0f);
          } else {
            System.arraycopy(scratch, (sy * w + sx) * c, batch, dst, c);
          }
        }
      }
    }
  }
}
