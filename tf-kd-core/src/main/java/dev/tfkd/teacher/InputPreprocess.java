package dev.tfkd.teacher;

import java.util.Locale;

/**
 * What a teacher's input needs beyond tf-kd's readers, which scale pixels to [0, 1]: each value {@code x} is fed
 * as {@code (x * scale - mean) / std}. A teacher trained on 0..255 pixels takes {@code scale=255}; one trained on
 * standardised MNIST {@code mean=0.1307,std=0.3081}.
 *
 * @param scale multiplies each value first; finite and non-zero
 * @param mean subtracted after scaling; finite
 * @param std divides last; finite and positive
 */
public record InputPreprocess(float scale, float mean, float std) {
  /** Values fed as they are read. */
  public static final InputPreprocess NONE = new InputPreprocess(1f, 0f, 1f);

  /** Validates the three numbers. */
  public InputPreprocess {
    if (!Float.isFinite(scale) || scale == 0) {
      throw new IllegalArgumentException("teacher preprocess scale must be finite and non-zero, got " + scale);
    }
    if (!Float.isFinite(mean)) {
      throw new IllegalArgumentException("teacher preprocess mean must be finite, got " + mean);
    }
    if (!Float.isFinite(std) || std <= 0) {
      throw new IllegalArgumentException("teacher preprocess std must be finite and > 0, got " + std);
    }
  }

  /**
   * Parses {@code scale=..,mean=..,std=..} (any subset, any order; empty gives {@link #NONE}).
   *
   * @throws IllegalArgumentException naming the part that is not {@code key=number} with a known key, or a key
   *     given twice (two values for one setting contradict each other)
   */
  public static InputPreprocess parse(String spec) {
    float scale = 1f;
    float mean = 0f;
    float std = 1f;
    if (spec == null || spec.isBlank()) {
      return NONE;
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (String part : spec.split(",")) {
      String[] kv = part.trim().split("=", -1);
      if (kv.length != 2) {
        throw new IllegalArgumentException("teacher preprocess '" + spec + "': '" + part + "' is not key=number");
      }
      float v;
      try {
        v = Float.parseFloat(kv[1].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("teacher preprocess '" + spec + "': '" + kv[1] + "' is not a number");
      }
      if (!seen.add(kv[0].trim())) {
        throw new IllegalArgumentException("teacher preprocess '" + spec + "': '" + kv[0].trim() + "' is given twice");
      }
      switch (kv[0].trim()) {
        case "scale" -> scale = v;
        case "mean" -> mean = v;
        case "std" -> std = v;
        default -> throw new IllegalArgumentException(
            "teacher preprocess '" + spec + "': unknown key '" + kv[0] + "' (scale, mean, std)");
      }
    }
    return new InputPreprocess(scale, mean, std);
  }

  /** Whether values are fed unchanged. */
  public boolean isNone() {
    return equals(NONE);
  }

  /** {@code scale=255,mean=0,std=1}: the spec {@link #parse} reads back. */
  public String describe() {
    return String.format(Locale.ROOT, "scale=%s,mean=%s,std=%s", scale, mean, std);
  }

  /** A new array of {@code features} preprocessed; {@code features} itself is not changed. */
  public float[] apply(float[] features) {
    float[] out = new float[features.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (features[i] * scale - mean) / std;
    }
    return out;
  }
}
