package dev.tfkd.io;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The one JSON writer of tf-kd: manifests, evaluation figures, results files and JSON-lines logs.
 *
 * <p>Writes maps (in their iteration order), {@link Members}, collections, arrays (object and primitive), records (by
 * component, in declaration order), strings, numbers, booleans, enums (lower-case name) and {@code null}; anything
 * else as the string of its {@code toString()}. Non-finite numbers, which JSON cannot hold, are written as {@code
 * null}. Whole-valued numbers are written without a fraction ({@code 2}, not {@code 2.0}); a {@code float} keeps its
 * own shortest form ({@code 0.001f} stays {@code 0.001}).
 *
 * <p>{@link #write} indents by two spaces, one member per line, short scalar arrays on one line; {@link #line} writes
 * everything on one line without spaces (JSON lines, {@code --json} output). Stateless and thread-safe; a {@link
 * Members} is not.
 */
public final class Json {
  private Json() {}

  /** {@code value} as indented JSON text, ending with a newline. */
  public static String write(Object value) {
    StringBuilder b = new StringBuilder();
    new Writer(b, true).value(value, 0);
    return b.append('\n').toString();
  }

  /** {@code value} as JSON text on one line, without spaces and without a trailing newline. */
  public static String line(Object value) {
    StringBuilder b = new StringBuilder();
    new Writer(b, false).value(value, 0);
    return b.toString();
  }

  /** A JSON string literal of {@code s}. */
  public static String quoted(String s) {
    StringBuilder b = new StringBuilder();
    string(b, s);
    return b.toString();
  }

  /** A new, empty JSON object to fill in member by member. */
  public static Members object() {
    return new Members();
  }

  /** The components of {@code r} by name, in declaration order. */
  public static Map<String, Object> recordToMap(Record r) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      try {
        m.put(c.getName(), c.getAccessor().invoke(r));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + c.getName() + " of " + r.getClass().getName(), e);
      }
    }
    return m;
  }

  /**
   * A JSON object built member by member, in insertion order; a later {@code put} of the same name replaces the
   * value in place. Its {@link #toString()} is the object on one line. Not thread-safe.
   */
  public static final class Members {
    private final Map<String, Object> members = new LinkedHashMap<>();

    private Members() {}

    /**
     * Adds a number member; NaN and infinities are written as {@code null}. A {@code float} argument is widened to
     * {@code double} here, so it is written with the digits of its double value.
     */
    public Members put(String name, double value) {
      members.put(name, value);
      return this;
    }

    /** Adds an integer member. */
    public Members put(String name, long value) {
      members.put(name, value);
      return this;
    }

    /** Adds a member of any value {@link Json} writes: strings, booleans, records, arrays, lists, maps, members. */
    public Members put(String name, Object value) {
      members.put(name, value);
      return this;
    }

    /** A read-only view of the members. */
    public Map<String, Object> asMap() {
      return java.util.Collections.unmodifiableMap(members);
    }

    /** The object on one line, as {@link Json#line} writes it. */
    @Override
    public String toString() {
      return line(this);
    }
  }

  private record Writer(StringBuilder b, boolean indented) {
    void value(Object v, int indent) {
      if (v == null) {
        b.append("null");
      } else if (v instanceof String s) {
        string(b, s);
      } else if (v instanceof Boolean) {
        b.append(v);
      } else if (v instanceof Float f) {
        // Float's own shortest form: 0.001f stays 0.001, not its widened double 0.0010000000474974513.
        b.append(!Float.isFinite(f) ? "null" : f == Math.rint(f) && Math.abs(f) < 1e7 ? Long.toString(f.longValue()) : lower(Float.toString(f)));
      } else if (v instanceof Double d) {
        b.append(Double.isFinite(d) ? number(d) : "null");
      } else if (v instanceof Number) {
        b.append(v);
      } else if (v instanceof Enum<?> e) {
        string(b, e.name().toLowerCase(Locale.ROOT));
      } else if (v instanceof Members m) {
        object(m.members, indent);
      } else if (v instanceof Map<?, ?> m) {
        object(m, indent);
      } else if (v instanceof Collection<?> c) {
        array(c.toArray(), indent);
      } else if (v instanceof Object[] a) {
        array(a, indent);
      } else if (v instanceof float[] a) {
        Object[] boxed = new Object[a.length];
        for (int i = 0; i < a.length; i++) {
          boxed[i] = a[i];
        }
        array(boxed, indent);
      } else if (v instanceof double[] a) {
        array(Arrays.stream(a).boxed().toArray(), indent);
      } else if (v instanceof long[] a) {
        array(Arrays.stream(a).boxed().toArray(), indent);
      } else if (v instanceof int[] a) {
        array(Arrays.stream(a).boxed().toArray(), indent);
      } else if (v instanceof Record r) {
        object(recordToMap(r), indent);
      } else {
        string(b, v.toString());
      }
    }

    private void object(Map<?, ?> m, int indent) {
      if (m.isEmpty()) {
        b.append("{}");
        return;
      }
      b.append(indented ? "{\n" : "{");
      int i = 0;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (indented) {
          b.append("  ".repeat(indent + 1));
        }
        string(b, String.valueOf(e.getKey()));
        b.append(indented ? ": " : ":");
        value(e.getValue(), indent + 1);
        if (++i < m.size()) {
          b.append(',');
        }
        if (indented) {
          b.append('\n');
        }
      }
      if (indented) {
        b.append("  ".repeat(indent));
      }
      b.append('}');
    }

    private void array(Object[] a, int indent) {
      boolean flat = !indented;
      if (indented) {
        flat = true;
        for (Object o : a) {
          flat &= o == null || o instanceof Number || o instanceof Boolean || o instanceof String;
        }
      }
      if (flat) {
        // One line; when indented, short scalar arrays (shapes, normalisation constants) stay readable this way.
        b.append('[');
        for (int i = 0; i < a.length; i++) {
          value(a[i], indent);
          if (i + 1 < a.length) {
            b.append(indented ? ", " : ",");
          }
        }
        b.append(']');
        return;
      }
      b.append("[\n");
      for (int i = 0; i < a.length; i++) {
        b.append("  ".repeat(indent + 1));
        value(a[i], indent + 1);
        b.append(i + 1 < a.length ? ",\n" : "\n");
      }
      b.append("  ".repeat(indent)).append(']');
    }
  }

  private static String number(double d) {
    // Whole numbers without ".0"; otherwise the shortest text that reads back to the same double.
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return lower(Double.toString(d));
  }

  private static String lower(String number) {
    return number.toLowerCase(Locale.ROOT);
  }

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
