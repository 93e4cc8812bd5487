package dev.tfkd.metrics;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.testing.Assertions;
import org.junit.jupiter.api.Test;

class MetricsTest {

  /** Logits whose softmax puts {@code p} on class {@code top} and the rest evenly on the other classes. */
  private static void row(float[] z, int i, int k, int top, double p) {
    double rest = (1 - p) / (k - 1);
    for (int c = 0; c < k; c++) {
      z[i * k + c] = (float) Math.log(c == top ? p : rest);
    }
  }

  @Test
  void perClassAccuracyAndEceByHand() {
    int k = 3;
    int[] labels = {0, 0, 1, 1, 2};
    float[] z = new float[5 * k];
    row(z, 0, k, 0, 0.9); // right, conf 0.9 (bin 13)
    row(z, 1, k, 1, 0.9); // wrong, conf 0.9 (bin 13)
    row(z, 2, k, 1, 0.5); // right, conf 0.5 (bin 7)
    row(z, 3, k, 1, 0.5); // right, conf 0.5 (bin 7)
    row(z, 4, k, 0, 0.6); // wrong, conf 0.6 (bin 8)
    Dataset d = new Dataset("d", new float[5], labels, new long[] {1}, k, null);
    Evaluation e = Metrics.evaluate(z, d);
    assertAllClose(e.accuracy(), 0.6, 0, 1e-12);
    assertAllClose(e.classAccuracy(0), 0.5, 0, 1e-12);
    assertAllClose(e.classAccuracy(1), 1.0, 0, 1e-12);
    assertAllClose(e.classAccuracy(2), 0.0, 0, 1e-12);
    // bins: {0.9, 0.9} acc 0.5 -> |0.5 - 0.9| * 2/5; {0.5, 0.5} acc 1 -> 0.5 * 2/5; {0.6} acc 0 -> 0.6 * 1/5.
    double expected = 0.4 * 2 / 5 + 0.5 * 2 / 5 + 0.6 / 5;
    assertAllClose(e.ece(), expected, 0, 1e-6);
    assertTrue(Double.isNaN(e.klToPosterior()));
    assertAllClose(e.cmi(), EmpiricalCmi.of(z, labels, k, 1), 0, 1e-12);
  }

  @Test
  void bayesPosteriorHasZeroBcpdErrorAndSmallEce() {
    Dataset d = new GaussianMixture(4, 5, 1.0, 3).sample(4000, 1, "g");
    Evaluation e = Metrics.bayes(d);
    assertAllClose(e.bcpdError(), 0, 0, 1e-12);
    assertTrue(e.ece() < 0.03, "the Bayes posterior is calibrated; ECE " + e.ece());
    assertTrue(e.cmi() > 0, "overlapping classes spread the posterior within a class; CMI " + e.cmi());
    assertEquals(4, e.perClassAccuracy().length);
  }

  @Test
  void givenCentroidsAreUsed() {
    int k = 2;
    int[] labels = {0, 1};
    float[] z = {1f, 0f, 0f, 1f};
    Dataset d = new Dataset("d", new float[2], labels, new long[] {1}, k, null);
    assertAllClose(Metrics.evaluate(z, d).cmi(), 0, 0, 1e-12);
    double[] uniform = {0.5, 0.5, 0.5, 0.5};
    assertTrue(Metrics.evaluate(z, d, uniform).cmi() > 0.05);
  }
}
