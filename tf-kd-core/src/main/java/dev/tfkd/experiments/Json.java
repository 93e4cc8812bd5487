package dev.tfkd.experiments;

/**
 * A minimal streaming JSON writer for result files: objects, arrays, strings and numbers (non-finite numbers are
 * written as {@code null}, which JSON has no other way to say). The caller nests calls correctly.
 */
public final class Json {
  private final StringBuilder b = new StringBuilder();
  private boolean needComma;

  public Json beginObject() {
    comma();
    b.append('{');
    needComma = false;
    return this;
  }

  public Json endObject() {
    b.append('}');
    needComma = true;
    return this;
  }

  public Json beginArray() {
    comma();
    b.append('[');
    needComma = false;
    return this;
  }

  public Json endArray() {
    b.append(']');
    needComma = true;
    return this;
  }

  /** A member name; the next value belongs to it. */
  public Json name(String name) {
    comma();
    string(name);
    b.append(':');
    needComma = false;
    return this;
  }

  public Json field(String name, String value) {
    return name(name).value(value);
  }

  public Json field(String name, double value) {
    return name(name).value(value);
  }

  public Json field(String name, long value) {
    return name(name).value(value);
  }

  public Json value(String s) {
    comma();
    string(s);
    needComma = true;
    return this;
  }

  public Json value(double d) {
    comma();
    b.append(Double.isFinite(d) ? Double.toString(d) : "null");
    needComma = true;
    return this;
  }

  public Json value(long v) {
    comma();
    b.append(v);
    needComma = true;
    return this;
  }

  private void comma() {
    if (needComma) {
      b.append(',');
    }
  }

  private void string(String s) {
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
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }

  @Override
  public String toString() {
    return b.toString();
  }
}
