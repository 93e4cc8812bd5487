package dev.tfkd.experiments;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StudentTTest {
  @Test
  void cdfMatchesClosedFormsForOneAndTwoDegreesOfFreedom() {
    for (double t : new double[] {-30, -3.1, -1, -0.2, 0, 0.5, 1.7, 12.7, 100}) {
      // df = 1 is the Cauchy distribution; df = 2 has F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
      assertAllClose(new double[] {StudentT.cdf(t, 1)}, new double[] {0.5 + Math.atan(t) / Math.PI}, 1e-12, 1e-14);
      assertAllClose(new double[] {StudentT.cdf(t, 2)}, new double[] {0.5 + t / (2 * Math.sqrt(2 + t * t))}, 1e-12, 1e-14);
    }
  }

  @Test
  void quantilesMatchPublishedValues() {
    // Two-sided 95% critical values t_{0.975, df} (R's qt(0.975, df)).
    double[] df = {1, 2, 3, 4, 9, 29, 100};
    double[] expected = {12.706204736174, 4.302652729696, 3.182446305284, 2.776445105198, 2.262157162741,
      2.045229642132, 1.983971518726};
    for (int i = 0; i < df.length; i++) {
      assertAllClose(new double[] {StudentT.quantile(0.975, df[i])}, new double[] {expected[i]}, 1e-9, 0);
    }
    assertAllClose(new double[] {StudentT.quantile(0.975, 1e7)}, new double[] {1.959963985}, 1e-6, 0);
    assertEquals(-StudentT.quantile(0.9, 5), StudentT.quantile(0.1, 5), 1e-12);
    assertEquals(0.5, StudentT.cdf(0, 7), 0);
    assertThrows(IllegalArgumentException.class, () -> StudentT.quantile(1, 3));
    assertThrows(IllegalArgumentException.class, () -> StudentT.cdf(1, 0));
  }

  @Test
  void logGammaMatchesFactorials() {
    assertAllClose(new double[] {StudentT.logGamma(1), StudentT.logGamma(5), StudentT.logGamma(0.5)},
        new double[] {0, Math.log(24), 0.5 * Math.log(Math.PI)}, 1e-13, 1e-13);
  }
}
