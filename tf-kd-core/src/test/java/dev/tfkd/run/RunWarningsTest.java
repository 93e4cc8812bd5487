package dev.tfkd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A finite loss with accuracy no better than chance is a warning in the results, not a failure. */
class RunWarningsTest {
  private final Dataset test = GaussianMixture.demo().sample(500, 3, "gmm-test");

  /** Logits that put all mass on {@code label + shift} (mod K). */
  private float[] logits(int shift) {
    int k = test.numClasses();
    float[] out = new float[test.size() * k];
    for (int i = 0; i < test.size(); i++) {
      out[i * k + (test.labels()[i] + shift) % k] = 10f;
    }
    return out;
  }

  @Test
  void accuracyBelowChanceIsAWarning() {
    ModelScore wrong = ModelScore.of("student", logits(1), test, 10);
    assertEquals(0.0, wrong.accuracy());
    List<String> w = RunLifecycle.warnings(List.of(), wrong, test.numClasses());
    assertEquals(1, w.size(), w.toString());
    assertTrue(w.get(0).startsWith("final test accuracy 0.0000 is at or below chance (1/10 = 0.1000)"), w.get(0));
  }

  @Test
  void aModelThatLearnedSaysNothing() {
    ModelScore right = ModelScore.of("student", logits(0), test, 10);
    assertEquals(1.0, right.accuracy());
    assertEquals(List.of(), RunLifecycle.warnings(List.of(), right, test.numClasses()));
  }
}
