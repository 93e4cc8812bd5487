package dev.tfkd.testing;

import static org.junit.jupiter.api.Assertions.fail;

/** numpy-style closeness checks: |actual - expected| <= atol + rtol * |expected|, element-wise. */
public final class Assertions {
  private Assertions() {}

  /** Tolerances for float32 graph values against a float64 reference. */
  public static final double FLOAT32_RTOL = 1e-5;

  public static final double FLOAT32_ATOL = 1e-6;

  public static void assertAllClose(double[] actual, double[] expected, double rtol, double atol) {
    if (actual.length != expected.length) {
      fail("length " + actual.length + " != expected " + expected.length);
    }
    for (int i = 0; i < actual.length; i++) {
      double a = actual[i];
      double e = expected[i];
      if (Double.isNaN(a) || Double.isNaN(e) || Math.abs(a - e) > atol + rtol * Math.abs(e)) {
        fail(String.format("element %d: actual %.9g, expected %.9g (rtol %g, atol %g)", i, a, e, rtol, atol));
      }
    }
  }

  public static void assertAllClose(float[] actual, float[] expected, double rtol, double atol) {
    assertAllClose(toDouble(actual), toDouble(expected), rtol, atol);
  }

  public static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }
}
