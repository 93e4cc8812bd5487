package dev.tfkd.data;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.Assertions;
import org.junit.jupiter.api.Test;

class GaussianMixtureTest {
  private final GaussianMixture mixture = GaussianMixture.demo();

  @Test
  void sameSeedSameData() {
    Dataset a = mixture.sample(200, 5, "a");
    Dataset b = mixture.sample(200, 5, "b");
    assertAllClose(b.features(), a.features(), Assertions.EXACT);
    assertArrayEquals(a.labels(), b.labels());
  }

  @Test
  void posteriorRowsAreDistributions() {
    Dataset d = mixture.sample(500, 3, "d");
    for (int i = 0; i < d.size(); i++) {
      double sum = 0;
      for (int k = 0; k < d.numClasses(); k++) {
        double p = d.posterior()[i * d.numClasses() + k];
        assertTrue(p >= 0 && p <= 1);
        sum += p;
      }
      assertAllClose(sum, 1.0, 0, 1e-12);
    }
  }

  @Test
  void posteriorMatchesDensitiesComputedDirectly() {
    // Independent check: Bayes' rule with the Gaussian densities written out, without log-sum-exp.
    Dataset d = mixture.sample(50, 11, "d");
    double[][] mu = mixture.means();
    double[] s = mixture.scales();
    int dim = mixture.dimensions();
    for (int i = 0; i < d.size(); i++) {
      double[] dens = new double[d.numClasses()];
      double total = 0;
      for (int k = 0; k < d.numClasses(); k++) {
        double sq = 0;
        for (int j = 0; j < dim; j++) {
          double diff = d.features()[i * dim + j] - mu[k][j];
          sq += diff * diff;
        }
        dens[k] = Math.pow(2 * Math.PI * s[k] * s[k], -dim / 2.0) * Math.exp(-sq / (2 * s[k] * s[k]));
        total += dens[k];
      }
      for (int k = 0; k < d.numClasses(); k++) {
        assertAllClose(d.posterior()[i * d.numClasses() + k], dens[k] / total, 0, 1e-9);
      }
    }
  }

  @Test
  void bayesClassifierIsGoodButNotPerfect() {
    double acc = Metrics.bayes(mixture.sample(5000, 9, "d")).accuracy();
    assertTrue(acc > 0.8 && acc < 0.95, "Bayes accuracy " + acc);
  }

  @Test
  void rejectsBadParameters() {
    assertThrows(IllegalArgumentException.class, () -> new GaussianMixture(1, 5, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new GaussianMixture(3, 5, Double.NaN, 0));
  }

  @Test
  void datasetRejectsLabelOutOfRange() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Dataset("x", new float[4], new int[] {0, 3}, new long[] {2}, 3, null));
    assertTrue(e.getMessage().contains("example 1 has label 3"), e.getMessage());
  }
}
