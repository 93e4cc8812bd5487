package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Examples;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads CSV files of numeric features followed by an integer class label in the last column, comma-separated (a
 * {@code .tsv} file is tab-separated). The first line is a header when any of its fields is not a number. Blank
 * lines are skipped; every other row must have as many fields as the first, every feature must be a finite number,
 * every label a non-negative integer (below the class count when one is given). Examples have shape
 * {@code [columns - 1]}.
 */
public final class CsvReader {
  private CsvReader() {}

  /**
   * Reads {@code file}.
   *
   * @param numClasses the class count, or 0 to use the largest label plus one
   */
  public static Dataset read(Path file, int numClasses) {
    Examples e = read(file, numClasses, -1, false);
    int max = -1;
    for (int l : e.labels()) {
      max = Math.max(max, l);
    }
    return new Dataset(e.name(), e.features(), e.labels(), e.exampleShape(), numClasses > 0 ? numClasses : max + 1, null);
  }

  /**
   * Reads {@code file} for prediction: a row of {@code exampleSize} fields is an unlabelled example, a row of
   * {@code exampleSize + 1} a labelled one (label last); the first data row decides for the whole file.
   *
   * @param exampleSize the values per example the model takes
   * @param allowNonFinite accept {@code NaN} and infinities as feature values (for a model that is to judge them)
   * @return the examples, with labels when the file has a label column
   */
  public static Examples readExamples(Path file, int exampleSize, boolean allowNonFinite) {
    if (exampleSize < 1) {
      throw new IllegalArgumentException("example size must be >= 1, got " + exampleSize);
    }
    return read(file, 0, exampleSize, allowNonFinite);
  }

  /** {@code exampleSize} -1: the last column is the label; otherwise the width of the first row decides. */
  private static Examples read(Path file, int numClasses, int exampleSize, boolean allowNonFinite) {
    char sep = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".tsv") ? '\t' : ',';
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    int width = -1;
    boolean labelled = true;
    // Malformed UTF-8 decodes to U+FFFD here, found per line below: Files.newBufferedReader would throw
    // "Input length = 1" while decoding ahead, with no way to tell which line is at fault.
    try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8))) {
      String line;
      int lineNo = 0;
      boolean first = true;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.indexOf('\uFFFD') >= 0) {
          throw new DataFormatException(file, "line " + lineNo, "not UTF-8 text (a binary or corrupt file?)");
        }
        if (line.isBlank()) {
          continue;
        }
        String[] fields = line.split(sep == '\t' ? "\t" : ",", -1);
        if (first) {
          first = false;
          if (!allNumeric(fields)) {
            width = fields.length;
            continue;
          }
        }
        if (width < 0) {
          width = fields.length;
        }
        if (rows.isEmpty() && exampleSize > 0) {
          if (width == exampleSize) {
            labelled = false;
          } else if (width != exampleSize + 1) {
            throw new DataFormatException(
                file, "line " + lineNo,
                "row has " + width + " fields; the model takes " + exampleSize + " values (plus an optional label column)");
          }
        }
        if (fields.length != width) {
          throw new DataFormatException(
              file, "line " + lineNo, "row has " + fields.length + " fields, expected " + width + " like the first row");
        }
        if (labelled && width < 2) {
          throw new DataFormatException(file, "line " + lineNo, "need at least one feature and a label column");
        }
        int d = labelled ? width - 1 : width;
        float[] x = new float[d];
        for (int c = 0; c < d; c++) {
          x[c] = number(file, lineNo, c, fields[c], allowNonFinite);
        }
        rows.add(x);
        if (!labelled) {
          continue;
        }
        String l = fields[width - 1].strip();
        int label;
        try {
          label = Integer.parseInt(l);
        } catch (NumberFormatException e) {
          throw new DataFormatException(file, "line " + lineNo + ", column " + width, "label '" + l + "' is not an integer");
        }
        if (label < 0 || label >= Labels.bound(numClasses)) {
          throw new DataFormatException(
              file, "line " + lineNo + ", column " + width,
              "label " + label + " is outside [0, " + Labels.bound(numClasses) + ")");
        }
        labels.add(label);
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(file, e);
    }
    if (rows.isEmpty()) {
      throw new DataFormatException(file, "", "no data rows");
    }
    int d = labelled ? width - 1 : width;
    float[] features = new float[rows.size() * d];
    int[] y = labelled ? new int[rows.size()] : null;
    for (int i = 0; i < rows.size(); i++) {
      System.arraycopy(rows.get(i), 0, features, i * d, d);
      if (labelled) {
        y[i] = labels.get(i);
      }
    }
    return new Examples(file.getFileName().toString(), features, new long[] {d}, y);
  }

  static boolean allNumeric(String[] fields) {
    for (String f : fields) {
      try {
        Double.parseDouble(f.strip());
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return true;
  }

  private static float number(Path file, int line, int col, String s, boolean allowNonFinite) {
    try {
      float v = Float.parseFloat(s.strip());
      if (Float.isFinite(v) || allowNonFinite) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // Reported below with the place.
    }
    throw new DataFormatException(file, "line " + line + ", column " + (col + 1), "'" + s + "' is not a finite number");
  }

  /** A finite feature value, or a {@link DataFormatException} naming {@code place}: for streamed CSV rows. */
  static float number(Path file, String place, String s) {
    try {
      float v = Float.parseFloat(s.strip());
      if (Float.isFinite(v)) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // Reported below with the place.
    }
    throw new DataFormatException(file, place, "'" + s + "' is not a finite number");
  }
}
