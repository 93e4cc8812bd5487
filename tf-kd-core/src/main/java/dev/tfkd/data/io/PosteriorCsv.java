package dev.tfkd.data.io;

import dev.tfkd.data.Dataset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Reads a user's known conditional distribution P(y|x) for an evaluation set: a CSV file with one row per example of
 * that set, in its order, and one column per class ({@code K} non-negative numbers summing to 1 within 1e-3; each row
 * is then renormalised to sum to exactly 1). A first line that does not parse as numbers is a header and skipped;
 * blank lines and lines starting with {@code #} are skipped. With it, evaluations report the BCPD error and
 * KL(posterior || model) on user data, as they do on the built-in Gaussian mixture. Stateless and thread-safe.
 */
public final class PosteriorCsv {
  /** How far a row's sum may be from 1 before it is refused. */
  public static final double SUM_TOLERANCE = 1e-3;

  private PosteriorCsv() {}

  /**
   * {@code data} with the posterior read from {@code file}.
   *
   * @param file the CSV file
   * @param data the evaluation data the rows belong to (its size and class count are checked)
   * @return a copy of {@code data} (arrays shared) whose {@link Dataset#posterior()} is the file's
   * @throws DataFormatException when the file does not hold {@code data.size()} rows of {@code K} probabilities
   */
  public static Dataset attach(Path file, Dataset data) {
    double[] p = read(file, data.size(), data.numClasses());
    return new Dataset(data.name(), data.features(), data.labels(), data.exampleShape(), data.numClasses(), p);
  }

  /**
   * The posterior in {@code file}, row-major.
   *
   * @param file the CSV file
   * @param rows the number of examples expected
   * @param k the number of classes expected
   * @return {@code rows * k} probabilities
   */
  public static double[] read(Path file, int rows, int k) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (MalformedInputException e) {
      throw new DataFormatException(file, "", "not UTF-8 text (a binary or corrupt file?)");
    } catch (java.nio.file.NoSuchFileException e) {
      throw new DataFormatException(file, "", "no such file");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    double[] out = new double[rows * k];
    int row = 0;
    boolean first = true;
    for (int n = 0; n < lines.size(); n++) {
      String line = lines.get(n).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] cells = line.split(",", -1);
      boolean header = first && !numeric(cells[0]);
      first = false;
      if (header) {
        continue;
      }
      String place = "line " + (n + 1);
      if (row >= rows) {
        throw new DataFormatException(file, place, "more rows than the " + rows + " evaluation examples");
      }
      if (cells.length != k) {
        throw new DataFormatException(file, place, cells.length + " columns, expected one per class (" + k + ")");
      }
      double sum = 0;
      for (int c = 0; c < k; c++) {
        double v;
        try {
          v = Double.parseDouble(cells[c].strip());
        } catch (NumberFormatException e) {
          throw new DataFormatException(file, place + ", column " + (c + 1), "'" + cells[c].strip() + "' is not a number");
        }
        if (!(v >= 0 && v <= 1 + SUM_TOLERANCE)) {
          throw new DataFormatException(file, place + ", column " + (c + 1), v + " is not a probability");
        }
        out[row * k + c] = v;
        sum += v;
      }
      if (Math.abs(sum - 1) > SUM_TOLERANCE) {
        throw new DataFormatException(file, place, String.format(Locale.ROOT, "the row sums to %.6f, not 1", sum));
      }
      for (int c = 0; c < k; c++) {
        out[row * k + c] /= sum;
      }
      row++;
    }
    if (row != rows) {
      throw new DataFormatException(file, "", row + " rows, expected one per evaluation example (" + rows + ")");
    }
    return out;
  }

  private static boolean numeric(String s) {
    try {
      Double.parseDouble(s.strip());
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
