package dev.tfkd.experiments;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PairedDifferenceTest {
  @Test
  void meanSdIntervalAndSignsOfThreePairs() {
    PairedDifference d = PairedDifference.of(new double[] {0.01, 0.02, 0.03});
    double half = 4.302652729696 * 0.01 / Math.sqrt(3);
    assertAllClose(new double[] {d.mean(), d.sd(), d.low(), d.high()},
        new double[] {0.02, 0.01, 0.02 - half, 0.02 + half}, 1e-9, 1e-12);
    assertEquals(3, d.positive());
    assertEquals(0, d.negative());
    assertEquals("+2.00 ± 1.00 [-0.48, +4.48] 3/3 > 0", d.format(100, 2));
  }

  @Test
  void signCountsSeparateZeros() {
    PairedDifference d = PairedDifference.of(new double[] {-1, 0, 2, 3});
    assertEquals(2, d.positive());
    assertEquals(1, d.negative());
    assertEquals(4, d.n());
  }

  @Test
  void onePairSaysSoInsteadOfAZeroSpread() {
    PairedDifference d = PairedDifference.of(new double[] {-0.004});
    assertTrue(Double.isNaN(d.sd()) && Double.isNaN(d.low()));
    assertEquals("-0.40 (n = 1)", d.format(100, 2));
    assertFalse(d.format(100, 2).contains("±"));
    assertEquals("-", PairedDifference.of(new double[0]).format(100, 2));
    assertThrows(IllegalArgumentException.class, () -> PairedDifference.of(new double[] {1, Double.NaN}));
  }
}
