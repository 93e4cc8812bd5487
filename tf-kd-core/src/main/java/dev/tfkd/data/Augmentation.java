package dev.tfkd.data;

import java.util.SplittableRandom;

/**
 * Image augmentation applied to training batches: a random crop after zero-padding by {@code padding} pixels on
 * every side (the standard CIFAR recipe: pad 4, crop back to 32x32) and a horizontal flip with probability 1/2.
 * Works on NHWC examples; random choices come from the caller's seeded generator, so a run is reproducible.
 *
 * <p>By name ({@link #parse}, the {@code training.augment} field and the {@code --augment} flag): {@code crop}
 * (padding {@value #DEFAULT_PADDING}), {@code crop:N} (padding N) and {@code flip}.
 *
 * @param padding pixels of zero padding before the random crop, >= 0 (0: no crop)
 * @param flip whether to flip horizontally half of the time
 */
public record Augmentation(int padding, boolean flip) {
  /** Validates the settings; throws IllegalArgumentException for a negative padding. */
  public Augmentation {
    if (padding < 0) {
      throw new IllegalArgumentException("padding must be >= 0, got " + padding);
    }
  }

  /** The padding of {@code crop} without a number. */
  public static final int DEFAULT_PADDING = 4;

  /** No augmentation. */
  public static final Augmentation NONE = new Augmentation(0, false);

  /** The CIFAR recipe: pad 4, random crop, horizontal flip. */
  public static Augmentation cifar() {
    return new Augmentation(DEFAULT_PADDING, true);
  }

  /** Whether this changes nothing. */
  public boolean isNone() {
    return padding == 0 && !flip;
  }

  /**
   * Parses names: {@code crop}, {@code crop:N}, {@code flip}, each at most once; an empty list is {@link #NONE}.
   *
   * @throws IllegalArgumentException naming an unknown or repeated name
   */
  public static Augmentation parse(java.util.List<String> names) {
    int padding = 0;
    boolean flip = false;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String raw : names) {
      String n = raw.strip().toLowerCase(java.util.Locale.ROOT);
      String kind = n.contains(":") ? n.substring(0, n.indexOf(':')) : n;
      if (!seen.add(kind)) {
        throw new IllegalArgumentException("augmentation '" + kind + "' given twice");
      }
      if (n.equals("flip")) {
        flip = true;
      } else if (n.equals("crop")) {
        padding = DEFAULT_PADDING;
      } else if (n.startsWith("crop:") && n.substring(5).matches("[0-9]{1,4}") && Integer.parseInt(n.substring(5)) > 0) {
        padding = Integer.parseInt(n.substring(5));
      } else {
        throw new IllegalArgumentException("unknown augmentation '" + raw + "'; known: crop, crop:N (N > 0 pixels), flip");
      }
    }
    return new Augmentation(padding, flip);
  }

  /** The names {@link #parse} reads back to this augmentation. */
  public java.util.List<String> names() {
    java.util.List<String> out = new java.util.ArrayList<>();
    if (padding > 0) {
      out.add(padding == DEFAULT_PADDING ? "crop" : "crop:" + padding);
    }
    if (flip) {
      out.add("flip");
    }
    return out;
  }

  /**
   * The generator of epoch {@code epoch}'s augmentation in a run seeded by {@code seed}: the {@code epoch}-th split
   * of one generator, independent of the generator of the data order, so an epoch's crops and flips depend only on
   * the seed and the epoch (a resumed run replays them exactly).
   */
  public static SplittableRandom random(long seed, int epoch) {
    SplittableRandom root = new SplittableRandom(seed ^ 0x6A09E667F3BCC909L);
    SplittableRandom rng = root.split();
    for (int i = 0; i < epoch; i++) {
      rng = root.split();
    }
    return rng;
  }

  @Override
  public String toString() {
    return isNone() ? "none" : String.join(",", names());
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
