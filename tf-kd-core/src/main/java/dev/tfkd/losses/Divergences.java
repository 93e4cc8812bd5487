package dev.tfkd.losses;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The registry of distillation divergences, by name, for the command line and the Java API.
 *
 * <p>A divergence is named by a spec string: the name alone for the defaults ({@code kl}), or the name with
 * parameters in parentheses ({@code kl(T=2)}). Unknown names and parameters are rejected with a message that
 * lists what is accepted.
 */
public final class Divergences {
  private Divergences() {}

  /** One registry entry: name, one-line description with formula, paper and defaults, and a factory. */
  public record Entry(String name, String description, Factory factory) {}

  /** Builds a divergence from parsed parameters; throws IllegalArgumentException for unknown or bad ones. */
  @FunctionalInterface
  public interface Factory {
    Divergence create(Params params);
  }

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

  static {
    register(
        new Entry(
            "kl",
            "T^2 KL(p || q), p = softmax(t/T), q = softmax(s/T) (Hinton et al. 2015). T=4.",
            p -> new Kl(p.take("T", Kl.DEFAULT_TEMPERATURE))));
  }

  private static void register(Entry e) {
    ENTRIES.put(e.name(), e);
  }

  /** Every registered divergence, in registration order. */
  public static List<Entry> entries() {
    return List.copyOf(ENTRIES.values());
  }

  /** Parses {@code name} or {@code name(key=value, ...)} into a divergence. */
  public static Divergence parse(String spec) {
    String s = spec.strip();
    String name = s;
    String args = "";
    int open = s.indexOf('(');
    if (open >= 0) {
      if (!s.endsWith(")")) {
        throw new IllegalArgumentException("divergence '" + spec + "': missing ')'");
      }
      name = s.substring(0, open).strip();
      args = s.substring(open + 1, s.length() - 1);
    }
    Entry e = ENTRIES.get(name.toLowerCase(Locale.ROOT));
    if (e == null) {
      throw new IllegalArgumentException(
          "unknown divergence '" + name + "'; known: " + String.join(", ", ENTRIES.keySet()));
    }
    Params params = Params.parse(spec, args);
    Divergence d = e.factory().create(params);
    params.checkAllUsed();
    return d;
  }

  /** Parsed {@code key=value} parameters; each must be consumed by the factory. */
  public static final class Params {
    private final String spec;
    private final Map<String, Double> values;

    private Params(String spec, Map<String, Double> values) {
      this.spec = spec;
      this.values = values;
    }

    static Params parse(String spec, String args) {
      Map<String, Double> v = new LinkedHashMap<>();
      if (!args.isBlank()) {
        for (String part : args.split(",")) {
          String[] kv = part.split("=", 2);
          if (kv.length != 2) {
            throw new IllegalArgumentException("divergence '" + spec + "': expected key=value, got '" + part.strip() + "'");
          }
          try {
            v.put(kv[0].strip(), Double.parseDouble(kv[1].strip()));
          } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("divergence '" + spec + "': " + kv[0].strip() + " is not a number: " + kv[1].strip());
          }
        }
      }
      return new Params(spec, v);
    }

    /** The value of {@code key}, or {@code fallback}; marks it used. */
    public float take(String key, float fallback) {
      Double d = values.remove(key);
      return d == null ? fallback : d.floatValue();
    }

    /** The integer value of {@code key}, or {@code fallback}; marks it used. */
    public int takeInt(String key, int fallback) {
      Double d = values.remove(key);
      if (d == null) {
        return fallback;
      }
      if (d != Math.rint(d)) {
        throw new IllegalArgumentException("divergence '" + spec + "': " + key + " must be an integer");
      }
      return d.intValue();
    }

    void checkAllUsed() {
      if (!values.isEmpty()) {
        throw new IllegalArgumentException("divergence '" + spec + "': unknown parameter(s) " + values.keySet());
      }
    }
  }
}
