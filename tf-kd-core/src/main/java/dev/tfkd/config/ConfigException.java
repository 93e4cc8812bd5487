package dev.tfkd.config;

import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bad input that a configuration field (of {@code tfkd.RunConfig}, e.g. {@code data.validation_split}) explains.
 * The message is a template in which each field appears as {@code {field}} (a dotted path of {@code RunConfig}, or
 * {@code resume}; other text in braces, e.g. from a value, is left as it is): {@link #getMessage()} names the
 * configuration fields, and a front end renders it in its own vocabulary with {@link #render(UnaryOperator)} (the
 * command line turns {@code data.validation_split} into {@code --validation-split}).
 */
public class ConfigException extends IllegalArgumentException {
  private static final Pattern FIELD = Pattern.compile("\\{([a-z_.]+)\\}");

  /** The message with {field} placeholders, rendered by the caller. */
  private final String template;

  /**
   * @param template the message, with every configuration field written as {@code {field}}, e.g.
   *     {@code "{output.export_dir} runs/x: is a file, not a directory"}
   */
  public ConfigException(String template) {
    super(render(template, UnaryOperator.identity()));
    this.template = template;
  }

  /** The message template, fields in braces. */
  public String template() {
    return template;
  }

  /** The fields the message names, in order. */
  public java.util.List<String> fields() {
    java.util.List<String> out = new java.util.ArrayList<>();
    Matcher m = FIELD.matcher(template);
    while (m.find()) {
      if (isField(m.group(1))) {
        out.add(m.group(1));
      }
    }
    return out;
  }

  /** The message with every field replaced by {@code name.apply(field)}. */
  public String render(UnaryOperator<String> name) {
    return render(template, name);
  }

  private static String render(String template, UnaryOperator<String> name) {
    Matcher m = FIELD.matcher(template);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String field = m.group(1);
      m.appendReplacement(b, Matcher.quoteReplacement(isField(field) ? name.apply(field) : m.group()));
    }
    m.appendTail(b);
    return b.toString();
  }

  /** Whether {@code name} is {@code resume} or a dotted path of {@code RunConfig}'s fields. */
  static boolean isField(String name) {
    if (name.equals("resume")) {
      return true;
    }
    com.google.protobuf.Descriptors.Descriptor d = RunConfig.getDescriptor();
    String[] parts = name.split("\\.", -1);
    for (int i = 0; i < parts.length; i++) {
      com.google.protobuf.Descriptors.FieldDescriptor f = d == null ? null : d.findFieldByName(parts[i]);
      if (f == null) {
        return false;
      }
      d = f.getJavaType() == com.google.protobuf.Descriptors.FieldDescriptor.JavaType.MESSAGE ? f.getMessageType() : null;
      if (d == null && i < parts.length - 1) {
        return false;
      }
    }
    return true;
  }
}
