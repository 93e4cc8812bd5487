package dev.tfkd.training;

import dev.tfkd.metrics.Evaluation;
import java.util.List;

/**
 * Stops a run when a validation metric has not improved by more than {@code minDelta} for {@code patience}
 * epochs in a row. Its state is a function of the epoch history alone, so a resumed run recovers it from the
 * checkpoint. Epochs without validation figures are ignored. One instance per run; not thread-safe.
 */
public final class EarlyStopping implements TrainingListener {
  private final Metric metric;
  private final int patience;
  private final double minDelta;
  private final java.util.ArrayList<EpochMetrics> history = new java.util.ArrayList<>();

  /** A validation metric and which direction is better. */
  public enum Metric {
    /** Validation accuracy; higher is better. */
    VAL_ACCURACY(true),
    /** Validation loss; lower is better. */
    VAL_LOSS(false);

    private final boolean higherIsBetter;

    Metric(boolean higherIsBetter) {
      this.higherIsBetter = higherIsBetter;
    }

    double of(Evaluation e) {
      return this == VAL_ACCURACY ? e.accuracy() : e.nll();
    }
  }

  /**
   * @param metric what to watch
   * @param patience epochs without improvement before stopping, {@code >= 1}
   * @param minDelta the least change that counts as an improvement, {@code >= 0}
   */
  public EarlyStopping(Metric metric, int patience, double minDelta) {
    this.metric = java.util.Objects.requireNonNull(metric, "metric");
    this.patience = patience;
    this.minDelta = minDelta;
    if (patience < 1) {
      throw new IllegalArgumentException("patience must be >= 1, got " + patience);
    }
    if (!(minDelta >= 0)) {
      throw new IllegalArgumentException("min delta must be >= 0, got " + minDelta);
    }
  }

  @Override
  public void onResume(List<EpochMetrics> restored) {
    history.clear();
    history.addAll(restored);
  }

  @Override
  public void onEpoch(EpochMetrics epoch) {
    history.add(epoch);
  }

  @Override
  public boolean stopRequested() {
    return epochsWithoutImprovement(history) >= patience;
  }

  /** The metric watched. */
  public Metric metric() {
    return metric;
  }

  /** Epochs since the best value so far (0 when the last epoch was the best). */
  public int epochsWithoutImprovement(List<EpochMetrics> history) {
    int best = bestEpoch(history);
    int lastWithValidation = -1;
    for (int i = 0; i < history.size(); i++) {
      if (history.get(i).validation() != null) {
        lastWithValidation = i;
      }
    }
    return best < 0 ? 0 : count(history, best + 1, lastWithValidation + 1);
  }

  /** Index in {@code history} of the best epoch by this metric (improvements of more than minDelta), or -1. */
  public int bestEpoch(List<EpochMetrics> history) {
    int best = -1;
    double bestValue = Double.NaN;
    for (int i = 0; i < history.size(); i++) {
      Evaluation v = history.get(i).validation();
      if (v == null || Double.isNaN(metric.of(v))) {
        continue;
      }
      double x = metric.of(v);
      boolean better =
          best < 0 || (metric.higherIsBetter ? x > bestValue + minDelta : x < bestValue - minDelta);
      if (better) {
        best = i;
        bestValue = x;
      }
    }
    return best;
  }

  private static int count(List<EpochMetrics> history, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      if (history.get(i).validation() != null) {
        n++;
      }
    }
    return n;
  }
}
