package dev.tfkd.metrics;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.testing.Assertions;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The one-pass training CMI equals the two-pass empirical CMI (centroids first, then the mean KL to them). */
class CmiAccumulatorTest {

  @Test
  void streamedInBatchesEqualsTheEmpiricalCmi() {
    int n = 300;
    int k = 5;
    SplittableRandom rng = new SplittableRandom(7);
    float[] z = new float[n * k];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      // Class 4 has no examples: its centroid is never read.
      y[i] = rng.nextInt(k - 1);
      for (int c = 0; c < k; c++) {
        z[i * k + c] = (float) (rng.nextGaussian() * 3 + (c == y[i] ? 2 : 0));
      }
    }
    EmpiricalCmi.Accumulator cmi = new EmpiricalCmi.Accumulator(k);
    for (int from = 0; from < n; from += 64) {
      int m = Math.min(64, n - from);
      cmi.add(java.util.Arrays.copyOfRange(z, from * k, (from + m) * k), java.util.Arrays.copyOfRange(y, from, from + m), m);
    }
    double expected = EmpiricalCmi.of(z, y, k, 1);
    assertAllClose(cmi.value(), expected, 0, 1e-9 * Math.max(1, expected));
    assertTrue(expected > 0.1, "a degenerate case: CMI " + expected);
  }

  @Test
  void predictionsThatIgnoreTheExampleHaveNoCmi() {
    EmpiricalCmi.Accumulator cmi = new EmpiricalCmi.Accumulator(3);
    cmi.add(new float[] {1, 2, 3, 1, 2, 3, 1, 2, 3}, new int[] {0, 0, 1}, 3);
    assertAllClose(cmi.value(), 0, 0, 1e-12);
    assertEquals(Double.NaN, new EmpiricalCmi.Accumulator(3).value());
  }
}
