package dev.tfkd.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one JSON reader of tf-kd, for the files {@link Json} writes (study cell files, results): objects become
 * {@code Map<String, Object>} in member order, arrays {@code List<Object>}, numbers {@code Double}, strings,
 * booleans and {@code null} as themselves (a {@code null} number, which {@link Json} writes for NaN, reads back as
 * {@code null}). Strict: trailing text or a malformed value is an {@link IllegalArgumentException} naming the offset.
 * Stateless and thread-safe.
 */
public final class JsonReader {
  private final String s;
  private int i;

  private JsonReader(String s) {
    this.s = s;
  }

  /**
   * Parses one JSON value.
   *
   * @param text JSON text
   * @return the value as described in the class comment
   */
  public static Object parse(String text) {
    JsonReader r = new JsonReader(text);
    Object v = r.value();
    r.space();
    if (r.i != text.length()) {
      throw r.error("trailing text");
    }
    return v;
  }

  /**
   * Parses a JSON object.
   *
   * @param text JSON text holding one object
   * @return its members in order
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(String text) {
    Object v = parse(text);
    if (!(v instanceof Map)) {
      throw new IllegalArgumentException("JSON: expected an object");
    }
    return (Map<String, Object>) v;
  }

  /**
   * A number member of {@code m} as a double: NaN when absent or {@code null} (how {@link Json} writes NaN).
   *
   * @param m an object read by this class
   * @param name the member
   * @return its value
   */
  public static double number(Map<String, Object> m, String name) {
    Object v = m.get(name);
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("JSON: " + what + " at offset " + i);
  }

  private void space() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
  }

  private Object value() {
    space();
    if (i >= s.length()) {
      throw error("unexpected end");
    }
    char c = s.charAt(i);
    switch (c) {
      case '{' -> {
        i++;
        Map<String, Object> m = new LinkedHashMap<>();
        space();
        if (peek('}')) {
          return m;
        }
        do {
          space();
          if (i >= s.length() || s.charAt(i) != '"') {
            throw error("expected a member name");
          }
          String name = string();
          space();
          expect(':');
          m.put(name, value());
          space();
        } while (peek(','));
        expect('}');
        return m;
      }
      case '[' -> {
        i++;
        List<Object> a = new ArrayList<>();
        space();
        if (peek(']')) {
          return a;
        }
        do {
          a.add(value());
          space();
        } while (peek(','));
        expect(']');
        return a;
      }
      case '"' -> {
        return string();
      }
      default -> {
        if (s.startsWith("true", i)) {
          i += 4;
          return Boolean.TRUE;
        }
        if (s.startsWith("false", i)) {
          i += 5;
          return Boolean.FALSE;
        }
        if (s.startsWith("null", i)) {
          i += 4;
          return null;
        }
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
          i++;
        }
        try {
          return Double.parseDouble(s.substring(start, i));
        } catch (NumberFormatException e) {
          i = start;
          throw error("bad value");
        }
      }
    }
  }

  private boolean peek(char c) {
    if (i < s.length() && s.charAt(i) == c) {
      i++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!peek(c)) {
      throw error("expected '" + c + "'");
    }
  }

  private String string() {
    i++; // the opening quote
    StringBuilder b = new StringBuilder();
    while (i < s.length()) {
      char c = s.charAt(i++);
      if (c == '"') {
        return b.toString();
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      if (i >= s.length()) {
        break;
      }
      char e = s.charAt(i++);
      switch (e) {
        case 'n' -> b.append('\n');
        case 't' -> b.append('\t');
        case 'r' -> b.append('\r');
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'u' -> {
          if (i + 4 > s.length()) {
            throw error("bad escape");
          }
          b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          i += 4;
        }
        default -> b.append(e);
      }
    }
    throw error("unterminated string");
  }
}
