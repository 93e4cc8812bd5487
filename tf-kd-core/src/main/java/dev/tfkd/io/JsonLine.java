package dev.tfkd.io;

import java.util.Locale;

/**
 * Builds one JSON object on one line, for JSON-lines logs and {@code --json} output. Non-finite numbers become
 * {@code null} (JSON has no NaN). Not thread-safe.
 */
public final class JsonLine {
  private final StringBuilder b = new StringBuilder("{");

  /** Adds a string field. */
  public JsonLine put(String key, String value) {
    key(key);
    if (value == null) {
      b.append("null");
    } else {
      quote(value);
    }
    return this;
  }

  /** Adds a number field; NaN and infinities are written as {@code null}. */
  public JsonLine put(String key, double value) {
    key(key);
    b.append(Double.isFinite(value) ? format(value) : "null");
    return this;
  }

  /** Adds an integer field. */
  public JsonLine put(String key, long value) {
    key(key);
    b.append(value);
    return this;
  }

  /** Adds a boolean field. */
  public JsonLine put(String key, boolean value) {
    key(key);
    b.append(value);
    return this;
  }

  /** Adds a field whose value is already JSON (an object or array). */
  public JsonLine putRaw(String key, String json) {
    key(key);
    b.append(json);
    return this;
  }

  @Override
  public String toString() {
    return b + "}";
  }

  /** A JSON string literal of {@code s}. */
  public static String quoted(String s) {
    JsonLine j = new JsonLine();
    j.b.setLength(0);
    j.quote(s);
    return j.b.toString();
  }

  private static String format(double v) {
    // Shortest text that reads back to the same double.
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v).toLowerCase(Locale.ROOT);
  }

  private void key(String key) {
    if (b.length() > 1) {
      b.append(',');
    }
    quote(key);
    b.append(':');
  }

  private void quote(String s) {
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
