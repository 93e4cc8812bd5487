package dev.tfkd.export;

import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * A small JSON writer for the provenance manifest: maps (in their iteration order), collections, arrays, records
 * (by component), strings, numbers, booleans and null. Non-finite floating-point numbers, which JSON cannot hold,
 * are written as {@code null}. Output is indented by two spaces, one member per line.
 */
public final class Json {
  private Json() {}

  /** {@code value} as indented JSON text. */
  public static String write(Object value) {
    StringBuilder b = new StringBuilder();
    write(b, value, 0);
    return b.append('\n').toString();
  }

  private static void write(StringBuilder b, Object v, int indent) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String s) {
      string(b, s);
    } else if (v instanceof Boolean) {
      b.append(v);
    } else if (v instanceof Float f) {
      // Float's own shortest form: 0.001f stays 0.001, not its widened double 0.0010000000474974513.
      b.append(!Float.isFinite(f) ? "null" : f == Math.rint(f) && Math.abs(f) < 1e7 ? Long.toString(f.longValue()) : Float.toString(f));
    } else if (v instanceof Double d) {
      b.append(Double.isFinite(d) ? number(d) : "null");
    } else if (v instanceof Number) {
      b.append(v);
    } else if (v instanceof Enum<?> e) {
      string(b, e.name().toLowerCase(Locale.ROOT));
    } else if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        b.append("{}");
        return;
      }
      b.append("{\n");
      int i = 0;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        b.append("  ".repeat(indent + 1));
        string(b, String.valueOf(e.getKey()));
        b.append(": ");
        write(b, e.getValue(), indent + 1);
        b.append(++i < m.size() ? ",\n" : "\n");
      }
      b.append("  ".repeat(indent)).append('}');
    } else if (v instanceof Collection<?> c) {
      array(b, c.toArray(), indent);
    } else if (v instanceof Object[] a) {
      array(b, a, indent);
    } else if (v instanceof float[] a) {
      Object[] boxed = new Object[a.length];
      for (int i = 0; i < a.length; i++) {
        boxed[i] = a[i];
      }
      array(b, boxed, indent);
    } else if (v instanceof double[] a) {
      array(b, java.util.Arrays.stream(a).boxed().toArray(), indent);
    } else if (v instanceof long[] a) {
      array(b, java.util.Arrays.stream(a).boxed().toArray(), indent);
    } else if (v instanceof int[] a) {
      array(b, java.util.Arrays.stream(a).boxed().toArray(), indent);
    } else if (v.getClass().isRecord()) {
      write(b, recordToMap((Record) v), indent);
    } else {
      string(b, v.toString());
    }
  }

  /** The components of {@code r} by name, in declaration order. */
  public static Map<String, Object> recordToMap(Record r) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      try {
        m.put(c.getName(), c.getAccessor().invoke(r));
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("cannot read " + c.getName() + " of " + r.getClass().getName(), e);
      }
    }
    return m;
  }

  private static void array(StringBuilder b, Object[] a, int indent) {
    boolean flat = true;
    for (Object o : a) {
      flat &= o == null || o instanceof Number || o instanceof Boolean || o instanceof String;
    }
    if (flat) {
      // Short scalar arrays (shapes, normalisation constants) stay on one line.
      b.append('[');
      for (int i = 0; i < a.length; i++) {
        write(b, a[i], indent);
        if (i + 1 < a.length) {
          b.append(", ");
        }
      }
      b.append(']');
      return;
    }
    b.append("[\n");
    for (int i = 0; i < a.length; i++) {
      b.append("  ".repeat(indent + 1));
      write(b, a[i], indent + 1);
      b.append(i + 1 < a.length ? ",\n" : "\n");
    }
    b.append("  ".repeat(indent)).append(']');
  }

  private static String number(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return Double.toString(d);
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
