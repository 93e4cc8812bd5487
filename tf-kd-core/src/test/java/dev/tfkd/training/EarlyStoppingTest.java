package dev.tfkd.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.metrics.Evaluation;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EarlyStoppingTest {
  private static TrainingListener.EpochMetrics epoch(int e, double acc, double loss) {
    return new TrainingListener.EpochMetrics(e, 1, 1, 0, 1, 0.5, 1e-3, e + 1, new Evaluation(10, acc, loss, Double.NaN, Double.NaN));
  }

  @Test
  void stopsAfterPatienceEpochsWithoutImprovement() {
    EarlyStopping es = new EarlyStopping(EarlyStopping.Metric.VAL_ACCURACY, 2, 0.01);
    double[] acc = {0.5, 0.6, 0.605, 0.59};
    for (int e = 0; e < acc.length; e++) {
      assertFalse(es.stopRequested(), "epoch " + e);
      es.onEpoch(epoch(e, acc[e], 1));
    }
    // 0.605 is within min delta of 0.6: epochs 3 and 4 did not improve.
    assertTrue(es.stopRequested());
  }

  @Test
  void lossIsBetterWhenLowerAndStateComesBackOnResume() {
    EarlyStopping es = new EarlyStopping(EarlyStopping.Metric.VAL_LOSS, 1, 0);
    List<TrainingListener.EpochMetrics> h = new ArrayList<>(List.of(epoch(0, 0.5, 1.0), epoch(1, 0.5, 0.8)));
    es.onResume(h);
    assertFalse(es.stopRequested());
    assertEquals(1, es.bestEpoch(h));
    es.onEpoch(epoch(2, 0.9, 0.85));
    assertTrue(es.stopRequested());
    EarlyStopping fresh = new EarlyStopping(EarlyStopping.Metric.VAL_LOSS, 1, 0);
    h.add(epoch(2, 0.9, 0.85));
    fresh.onResume(h);
    assertTrue(fresh.stopRequested());
  }

  @Test
  void badSettingsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(EarlyStopping.Metric.VAL_LOSS, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(EarlyStopping.Metric.VAL_LOSS, 1, Double.NaN));
  }
}
