package dev.tfkd.models;

import dev.tfkd.graph.Architecture;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The model zoo's registry: architectures by name, for the command line and the Java API.
 *
 * <p>A model is named by a spec: the name alone ({@code mlp}) or the name with arguments after a colon
 * ({@code mlp:512,512} for the hidden widths).
 */
public final class Models {
  private Models() {}

  /** Builds an architecture for the given input shape and class count from the spec's arguments. */
  @FunctionalInterface
  public interface Factory {
    Architecture create(String args, long[] inputShape, int numClasses);
  }

  /** One entry: name, description, factory. */
  public record Entry(String name, String description, Factory factory) {}

  private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

  static {
    register(
        new Entry(
            "mlp",
            "Multi-layer perceptron, ReLU; args: hidden widths (default 256,256), e.g. mlp:512,512",
            (args, shape, k) -> new Mlp(shape, widths(args, new int[] {256, 256}), k, 0f)));
  }

  private static void register(Entry e) {
    ENTRIES.put(e.name(), e);
  }

  /** Every registered model, in registration order. */
  public static List<Entry> entries() {
    return List.copyOf(ENTRIES.values());
  }

  /** The architecture named by {@code spec} for inputs of {@code inputShape} and {@code numClasses} classes. */
  public static Architecture create(String spec, long[] inputShape, int numClasses) {
    String s = spec.strip();
    int colon = s.indexOf(':');
    String name = (colon < 0 ? s : s.substring(0, colon)).toLowerCase(Locale.ROOT);
    String args = colon < 0 ? "" : s.substring(colon + 1);
    Entry e = ENTRIES.get(name);
    if (e == null) {
      throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", ENTRIES.keySet()));
    }
    return e.factory().create(args, inputShape.clone(), numClasses);
  }

  static int[] widths(String args, int[] fallback) {
    if (args.isBlank()) {
      return fallback;
    }
    try {
      return Arrays.stream(args.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected comma-separated integer widths, got '" + args + "'");
    }
  }
}
