package dev.tfkd.data.io;

import java.nio.file.Path;

/**
 * A dataset file that cannot be read as what it claims to be: a wrong magic number, a truncated file, a bad CRC, a
 * label out of range, a row of the wrong width. The message names the file and the place (byte offset, record,
 * row or line) so the user can find the problem. An {@link IllegalArgumentException}: bad input, exit code 2.
 */
public final class DataFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;
  /** Where in the file the problem is. */
  private final String place;

  /**
   * @param file the file at fault
   * @param place where in it, e.g. {@code "byte 16"}, {@code "record 3"}, {@code "line 7"}
   * @param problem what is wrong
   */
  public DataFormatException(Path file, String place, String problem) {
    super(oneLine(file + (place == null || place.isEmpty() ? "" : ": " + place) + ": " + problem));
    this.file = file;
    this.place = place;
  }

  /**
   * A malformed-data error.
   *
   * @param file the file that is malformed
   * @param place where in the file (record, line, offset)
   * @param problem what is wrong
   * @param cause the underlying error, or {@code null}
   */
  public DataFormatException(Path file, String place, String problem, Throwable cause) {
    this(file, place, problem);
    initCause(cause);
  }

  /** The longest message, in characters: a quoted list of keys from a hostile file can be arbitrarily long. */
  static final int MAX_LENGTH = 600;

  /**
   * Messages quote the file (feature keys, fields, paths): control characters (a newline among them) are escaped
   * so that the message stays one line and cannot drive a terminal, and a long message is cut.
   */
  static String oneLine(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_LENGTH + 16));
    for (int i = 0; i < s.length(); i++) {
      if (b.length() >= MAX_LENGTH) {
        return b.append("...").toString();
      }
      char c = s.charAt(i);
      if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * The file that is malformed.
   *
   * @return the file
   */
  public Path file() {
    return file;
  }

  /**
   * Where in the file the problem is.
   *
   * @return the place, e.g. a record or line number
   */
  public String place() {
    return place;
  }
}
