package dev.tfkd.testing;

import static dev.tfkd.testing.Assertions.EXACT;
import static dev.tfkd.testing.Assertions.FLOAT32;
import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.testing.Assertions.Tolerance;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The closeness helper itself: numpy's isclose rule, non-finite values, shapes and the failure message. */
class AssertionsTest {
  private static final double NAN = Double.NaN;
  private static final double INF = Double.POSITIVE_INFINITY;

  @Test
  void toleranceIsAtolPlusRtolTimesExpected() {
    Tolerance t = new Tolerance(0.1, 0.01);
    // allowed = 0.01 + 0.1 * 10 = 1.01
    assertTrue(Assertions.isClose(11.0, 10.0, t));
    assertTrue(Assertions.isClose(8.99, 10.0, t));
    assertFalse(Assertions.isClose(11.02, 10.0, t));
    // Asymmetric like numpy: the tolerance scales with the expected value only.
    assertTrue(Assertions.isClose(0.0, 0.005, t));
    assertFalse(Assertions.isClose(1.0, 0.0, t));
    assertTrue(Assertions.isClose(1.0, 0.0, new Tolerance(0, 1)));
    assertTrue(Assertions.isClose(0.1f, 0.1f, EXACT));
    assertFalse(Assertions.isClose(Math.nextUp(1.0), 1.0, EXACT));
  }

  @Test
  void nanIsNeverCloseUnlessBothAreNanAndTheToleranceSaysSo() {
    Tolerance wide = new Tolerance(1e9, 1e9);
    assertFalse(Assertions.isClose(NAN, 1.0, wide));
    assertFalse(Assertions.isClose(1.0, NAN, wide));
    assertFalse(Assertions.isClose(NAN, NAN, wide));
    assertFalse(Assertions.isClose(NAN, NAN, EXACT));
    assertTrue(Assertions.isClose(NAN, NAN, wide.nanEqual()));
    assertFalse(Assertions.isClose(NAN, 0.0, wide.nanEqual()));
    assertThrows(AssertionFailedError.class, () -> assertAllClose(NAN, 0.0, 1e9, 1e9));
    assertThrows(AssertionFailedError.class, () -> assertAllClose(new float[] {Float.NaN}, new float[] {Float.NaN}, EXACT));
    assertDoesNotThrow(() -> assertAllClose(new double[] {NAN, 1}, new double[] {NAN, 1}, EXACT.nanEqual()));
  }

  @Test
  void infinityIsCloseOnlyToTheSameInfinity() {
    Tolerance wide = new Tolerance(1e9, 1e9);
    assertTrue(Assertions.isClose(INF, INF, EXACT));
    assertTrue(Assertions.isClose(-INF, -INF, EXACT));
    assertFalse(Assertions.isClose(INF, -INF, wide));
    assertFalse(Assertions.isClose(INF, Double.MAX_VALUE, wide));
    assertFalse(Assertions.isClose(1e300, INF, wide));
    assertFalse(Assertions.isClose(INF, NAN, wide.nanEqual()));
  }

  @Test
  void lengthsAndShapesMustMatch() {
    AssertionFailedError e =
        assertThrows(AssertionFailedError.class, () -> assertAllClose(new double[] {1, 2}, new double[] {1, 2, 3}, FLOAT32));
    assertTrue(e.getMessage().contains("length mismatch: 2 values, expected 3"), e.getMessage());
    AssertionFailedError rows =
        assertThrows(
            AssertionFailedError.class,
            () -> assertAllClose(new float[][] {{1, 2}, {3}}, new float[][] {{1, 2}, {3, 4}}, FLOAT32));
    assertTrue(rows.getMessage().contains("row 1 has 1 values, expected 2"), rows.getMessage());
    assertThrows(AssertionFailedError.class, () -> assertAllClose(new float[][] {{1}}, new float[][] {{1}, {2}}, FLOAT32));
    assertDoesNotThrow(() -> assertAllClose(new double[0], new double[0], EXACT));
  }

  @Test
  void messageNamesFirstFailureBothValuesAndTheCount() {
    double[] expected = {1, 2, 3, 4, 5};
    double[] actual = {1, 2.5, 3, 4.5, 5};
    AssertionFailedError e =
        assertThrows(AssertionFailedError.class, () -> assertAllClose(actual, expected, FLOAT32, "logits"));
    String m = e.getMessage();
    assertTrue(m.startsWith("logits: 2 of 5 values not close"), m);
    assertTrue(m.contains("at [1]: actual 2.50000000, expected 2.00000000"), m);
    AssertionFailedError nested =
        assertThrows(
            AssertionFailedError.class,
            () -> assertAllClose(new float[][] {{0, 0}, {0, 7}}, new float[][] {{0, 0}, {0, 0}}, FLOAT32));
    assertTrue(nested.getMessage().contains("1 of 4 values not close"), nested.getMessage());
    assertTrue(nested.getMessage().contains("at [1][1]: actual 7.00000000"), nested.getMessage());
  }

  @Test
  void floatOverloadsCompareTheFloatValues() {
    assertDoesNotThrow(() -> assertAllClose(new float[] {1f, 1e-7f}, new float[] {1.000001f, 0f}, FLOAT32.rtol(), 1e-6));
    assertThrows(AssertionFailedError.class, () -> assertAllClose(new float[] {1.01f}, new float[] {1f}, FLOAT32));
    assertDoesNotThrow(() -> assertAllClose(0.30000000000000004, 0.3, Assertions.FLOAT64));
    assertThrows(AssertionFailedError.class, () -> assertAllClose(0.3001, 0.3, Assertions.FLOAT64));
  }

  @Test
  void tolerancesMustBeFiniteAndNonNegative() {
    assertThrows(IllegalArgumentException.class, () -> new Tolerance(-1e-6, 0));
    assertThrows(IllegalArgumentException.class, () -> new Tolerance(0, NAN));
    assertThrows(IllegalArgumentException.class, () -> new Tolerance(INF, 0));
    assertEquals(new Tolerance(1e-5, 1e-6, true), FLOAT32.nanEqual());
  }
}
