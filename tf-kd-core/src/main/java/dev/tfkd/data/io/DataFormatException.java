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
  private final String place;

  /**
   * @param file the file at fault
   * @param place where in it, e.g. {@code "byte 16"}, {@code "record 3"}, {@code "line 7"}
   * @param problem what is wrong
   */
  public DataFormatException(Path file, String place, String problem) {
    super(file + (place == null || place.isEmpty() ? "" : ": " + place) + ": " + problem);
    this.file = file;
    this.place = place;
  }

  public DataFormatException(Path file, String place, String problem, Throwable cause) {
    this(file, place, problem);
    initCause(cause);
  }

  public Path file() {
    return file;
  }

  public String place() {
    return place;
  }
}
