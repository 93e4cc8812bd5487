package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
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
    char sep = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".tsv") ? '\t' : ',';
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    int width = -1;
    int max = -1;
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
        if (fields.length != width) {
          throw new DataFormatException(
              file, "line " + lineNo, "row has " + fields.length + " fields, expected " + width + " like the first row");
        }
        if (width < 2) {
          throw new DataFormatException(file, "line " + lineNo, "need at least one feature and a label column");
        }
        float[] x = new float[width - 1];
        for (int c = 0; c < width - 1; c++) {
          x[c] = number(file, lineNo, c, fields[c]);
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
        max = Math.max(max, label);
        rows.add(x);
        labels.add(label);
      }
    } catch (IOException e) {
      throw Bytes.cannotRead(file, e);
    }
    if (rows.isEmpty()) {
      throw new DataFormatException(file, "", "no data rows");
    }
    int d = width - 1;
    float[] features = new float[rows.size() * d];
    int[] y = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      System.arraycopy(rows.get(i), 0, features, i * d, d);
      y[i] = labels.get(i);
    }
    return new Dataset(file.getFileName().toString(), features, y, new long[] {d}, numClasses > 0 ? numClasses : max + 1, null);
  }

  private static boolean allNumeric(String[] fields) {
    for (String f : fields) {
      try {
        Double.parseDouble(f.strip());
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return true;
  }

  private static float number(Path file, int line, int col, String s) {
    try {
      float v = Float.parseFloat(s.strip());
      if (Float.isFinite(v)) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // Reported below with the place.
    }
    throw new DataFormatException(file, "line " + line + ", column " + (col + 1), "'" + s + "' is not a finite number");
  }
}
