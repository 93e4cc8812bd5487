package dev.tfkd.losses;

import java.util.Locale;

/**
 * One numeric parameter of a divergence spec: its key in the spec ({@code T}, {@code iters}), its default and the
 * range it must lie in. The divergence records check their arguments against these (so the Java API and the spec
 * parser agree), {@link Divergences#parse} checks a spec's value before converting it (so {@code iters=1e9} is refused
 * as written, before any graph is built), and {@code tfkd divergences} lists them.
 *
 * <p>The bounds keep a spec from exhausting the machine (Sinkhorn's iterations are unrolled into the graph: each is
 * about twenty nodes plus their gradients) and from reaching values where float32 arithmetic is meaningless (a
 * temperature of 1e-30 turns every logit into an infinity). NaN is outside every range.
 *
 * @param key the name in a spec, e.g. {@code iters}
 * @param defaultValue the value when the spec omits the key
 * @param min the lower bound
 * @param minInclusive whether {@code min} itself is allowed
 * @param max the upper bound
 * @param maxInclusive whether {@code max} itself is allowed
 * @param integer whether only whole numbers are allowed
 */
public record Parameter(
    String key, double defaultValue, double min, boolean minInclusive, double max, boolean maxInclusive, boolean integer) {

  /** The range every divergence temperature ({@code T}, {@code Tmin}, {@code Tmax}) must lie in. */
  public static final double MIN_TEMPERATURE = 0.01;

  /** The largest temperature: beyond it every tempered distribution is uniform to float32 precision. */
  public static final double MAX_TEMPERATURE = 100;

  /** Validates the bounds; throws IllegalArgumentException when the default is outside [min, max]. */
  public Parameter {
    if (!(min <= max) || !(defaultValue >= min && defaultValue <= max)) {
      throw new IllegalArgumentException("parameter " + key + ": default " + defaultValue + " outside its range");
    }
  }

  /** A real parameter in the closed range {@code [min, max]}. */
  public static Parameter closed(String key, double defaultValue, double min, double max) {
    return new Parameter(key, defaultValue, min, true, max, true, false);
  }

  /** An integer parameter in {@code [min, max]}. */
  public static Parameter integer(String key, int defaultValue, int min, int max) {
    return new Parameter(key, defaultValue, min, true, max, true, true);
  }

  /** A temperature named {@code key} in [{@value #MIN_TEMPERATURE}, {@value #MAX_TEMPERATURE}]. */
  public static Parameter temperature(String key, double defaultValue) {
    return closed(key, defaultValue, MIN_TEMPERATURE, MAX_TEMPERATURE);
  }

  /**
   * Whether {@code v} is allowed.
   *
   * @param v a value
   * @return true when {@code v} is within the bounds (and whole, for an integer parameter)
   */
  public boolean accepts(double v) {
    if (integer) {
      return (minInclusive ? v >= min : v > min) && (maxInclusive ? v <= max : v < max) && v == Math.rint(v);
    }
    // Real parameters are float32 in the graph: compared as floats, so that T=0.01 given as a float is in range.
    float f = (float) v;
    return (minInclusive ? f >= (float) min : f > (float) min) && (maxInclusive ? f <= (float) max : f < (float) max);
  }

  /**
   * Returns {@code v} when allowed; otherwise throws IllegalArgumentException naming {@code owner}, the key, the
   * range and the value.
   *
   * @param owner the divergence named in the message
   * @param v the value
   * @return {@code v}
   */
  public double check(String owner, double v) {
    if (!accepts(v)) {
      throw new IllegalArgumentException(owner + " " + key + " must be " + range() + ", got " + format(v));
    }
    return v;
  }

  /**
   * The range in words: {@code an integer in [1, 1000]}, {@code in (0, 1)}.
   *
   * @return the range
   */
  public String range() {
    return (integer ? "an integer in " : "in ") + (minInclusive ? "[" : "(") + format(min) + ", " + format(max)
        + (maxInclusive ? "]" : ")");
  }

  /**
   * {@code key in [min, max], default d}, as {@code tfkd divergences} lists it.
   *
   * @return the description
   */
  public String describe() {
    return key + " " + range() + ", default " + format(defaultValue);
  }

  /** A number without a trailing {@code .0}, in plain notation where that is short. */
  static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    // Defaults are float32 constants: 0.1f widened to double prints as 0.10000000149011612.
    String s = (double) (float) v == v ? Float.toString((float) v) : Double.toString(v);
    return s.toLowerCase(Locale.ROOT);
  }
}
