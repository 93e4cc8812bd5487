package dev.tfkd.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Locale;

/**
 * numpy-style closeness checks for every numeric comparison in tf-kd's tests (all modules use this one class, from
 * tf-kd-core's test jar).
 *
 * <p>An element is close when {@code |actual - expected| <= atol + rtol * |expected|} (numpy's {@code isclose}, not
 * symmetric: the tolerance scales with the expected value). Non-finite values: NaN is never close to anything,
 * NaN included, unless the tolerance {@link Tolerance#nanEqual() allows equal NaNs}; an infinity is close only to the
 * same infinity. Lengths (and for nested arrays, every row's length) must match. A failure names the first failing
 * index, both values, the allowed difference and how many elements failed.
 */
public final class Assertions {
  private Assertions() {}

  /**
   * Relative and absolute tolerance, and whether NaN equals NaN.
   *
   * @param rtol relative tolerance, a finite value {@code >= 0}
   * @param atol absolute tolerance, a finite value {@code >= 0}
   * @param equalNan whether a NaN is close to a NaN (never to a number)
   */
  public record Tolerance(double rtol, double atol, boolean equalNan) {
    public Tolerance {
      if (!(rtol >= 0) || !(atol >= 0) || Double.isInfinite(rtol) || Double.isInfinite(atol)) {
        throw new IllegalArgumentException("tolerances must be finite and >= 0, got rtol " + rtol + ", atol " + atol);
      }
    }

    public Tolerance(double rtol, double atol) {
      this(rtol, atol, false);
    }

    /** The same tolerance, with NaN close to NaN. */
    public Tolerance nanEqual() {
      return new Tolerance(rtol, atol, true);
    }
  }

  /** Bit-for-bit equal values (determinism, resume, identical inputs); NaN still fails. */
  public static final Tolerance EXACT = new Tolerance(0, 0);

  /** Float64 arithmetic against float64 arithmetic in another order. */
  public static final Tolerance FLOAT64 = new Tolerance(1e-12, 1e-12);

  /**
   * The same float32 graph computed twice in different ways: reloaded from an export, fed in other batch sizes,
   * through another entry point, cached.
   */
  public static final Tolerance FLOAT32_TIGHT = new Tolerance(1e-6, 1e-6);

  /** A float32 graph against an independent float64 reference (or float32 sums in a different order). */
  public static final Tolerance FLOAT32 = new Tolerance(1e-5, 1e-6);

  /**
   * Float32 through longer chains whose summation order differs (convolutions, batch normalisation, softmax of a
   * whole model's logits, oneDNN kernels).
   */
  public static final Tolerance FLOAT32_LOOSE = new Tolerance(1e-4, 1e-4);

  /** A float64 gradient against central finite differences of a float32 graph. */
  public static final Tolerance FINITE_DIFFERENCE = new Tolerance(1e-3, 1e-4);

  /** Whether {@code actual} is close to {@code expected} under {@code tol} (see the class comment). */
  public static boolean isClose(double actual, double expected, Tolerance tol) {
    if (Double.isNaN(actual) || Double.isNaN(expected)) {
      return tol.equalNan() && Double.isNaN(actual) && Double.isNaN(expected);
    }
    if (Double.isInfinite(actual) || Double.isInfinite(expected)) {
      return actual == expected;
    }
    return Math.abs(actual - expected) <= tol.atol() + tol.rtol() * Math.abs(expected);
  }

  public static void assertAllClose(double[] actual, double[] expected, double rtol, double atol) {
    assertAllClose(actual, expected, new Tolerance(rtol, atol), null);
  }

  public static void assertAllClose(float[] actual, float[] expected, double rtol, double atol) {
    assertAllClose(toDouble(actual), toDouble(expected), new Tolerance(rtol, atol), null);
  }

  public static void assertAllClose(double actual, double expected, double rtol, double atol) {
    assertAllClose(new double[] {actual}, new double[] {expected}, new Tolerance(rtol, atol), null);
  }

  public static void assertAllClose(double actual, double expected, double rtol, double atol, String message) {
    assertAllClose(new double[] {actual}, new double[] {expected}, new Tolerance(rtol, atol), message);
  }

  public static void assertAllClose(double[] actual, double[] expected, Tolerance tol) {
    assertAllClose(actual, expected, tol, null);
  }

  public static void assertAllClose(float[] actual, float[] expected, Tolerance tol) {
    assertAllClose(toDouble(actual), toDouble(expected), tol, null);
  }

  public static void assertAllClose(float[] actual, float[] expected, Tolerance tol, String message) {
    assertAllClose(toDouble(actual), toDouble(expected), tol, message);
  }

  public static void assertAllClose(double actual, double expected, Tolerance tol) {
    assertAllClose(new double[] {actual}, new double[] {expected}, tol, null);
  }

  public static void assertAllClose(double actual, double expected, Tolerance tol, String message) {
    assertAllClose(new double[] {actual}, new double[] {expected}, tol, message);
  }

  public static void assertAllClose(float[][] actual, float[][] expected, Tolerance tol) {
    assertAllClose(actual, expected, tol, null);
  }

  /** Row by row; rows must have equal lengths, and the failing index is written {@code [row][column]}. */
  public static void assertAllClose(float[][] actual, float[][] expected, Tolerance tol, String message) {
    String prefix = message == null ? "" : message + ": ";
    if (actual.length != expected.length) {
      fail(prefix + "shape mismatch: " + actual.length + " rows, expected " + expected.length);
    }
    int mismatches = 0;
    String first = null;
    int total = 0;
    for (int r = 0; r < actual.length; r++) {
      if (actual[r].length != expected[r].length) {
        fail(prefix + "shape mismatch: row " + r + " has " + actual[r].length + " values, expected " + expected[r].length);
      }
      for (int c = 0; c < actual[r].length; c++) {
        total++;
        if (!isClose(actual[r][c], expected[r][c], tol)) {
          if (mismatches++ == 0) {
            first = describe("[" + r + "][" + c + "]", actual[r][c], expected[r][c], tol);
          }
        }
      }
    }
    if (mismatches > 0) {
      fail(prefix + summary(mismatches, total, tol) + "; first " + first);
    }
  }

  /**
   * Fails unless every element of {@code actual} is close to the one of {@code expected} at the same index.
   *
   * @param message what is compared, prepended to a failure (may be null)
   */
  public static void assertAllClose(double[] actual, double[] expected, Tolerance tol, String message) {
    String prefix = message == null ? "" : message + ": ";
    if (actual == null || expected == null) {
      fail(prefix + "actual " + Arrays.toString(actual) + ", expected " + Arrays.toString(expected));
    }
    if (actual.length != expected.length) {
      fail(prefix + "length mismatch: " + actual.length + " values, expected " + expected.length);
    }
    int mismatches = 0;
    String first = null;
    for (int i = 0; i < actual.length; i++) {
      if (!isClose(actual[i], expected[i], tol)) {
        if (mismatches++ == 0) {
          first = describe("[" + i + "]", actual[i], expected[i], tol);
        }
      }
    }
    if (mismatches > 0) {
      fail(prefix + summary(mismatches, actual.length, tol) + "; first " + first);
    }
  }

  private static String summary(int mismatches, int total, Tolerance tol) {
    return String.format(
        Locale.ROOT,
        "%d of %d values not close (rtol %g, atol %g%s)",
        mismatches,
        total,
        tol.rtol(),
        tol.atol(),
        tol.equalNan() ? ", NaN equals NaN" : "");
  }

  private static String describe(String index, double a, double e, Tolerance tol) {
    return String.format(
        Locale.ROOT,
        "at %s: actual %.9g, expected %.9g, |diff| %.3g > allowed %.3g",
        index,
        a,
        e,
        Math.abs(a - e),
        tol.atol() + tol.rtol() * Math.abs(e));
  }

  public static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }
}
