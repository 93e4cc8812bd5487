package dev.tfkd.testing;

import dev.tfkd.training.TrainingListener;

/**
 * A listener that asks the trainer to stop once it has seen {@code epochs} epochs: how resume tests cut a run in two.
 * A fresh instance per run; {@code epochs} of 0 or less never stops.
 */
public final class StopAfterEpochs implements TrainingListener {
  private final int epochs;
  private int seen;

  /**
   * @param epochs the epochs after which to stop
   */
  public StopAfterEpochs(int epochs) {
    this.epochs = epochs;
  }

  @Override
  public void onEpoch(EpochMetrics e) {
    seen++;
  }

  @Override
  public boolean stopRequested() {
    return seen == epochs;
  }
}
