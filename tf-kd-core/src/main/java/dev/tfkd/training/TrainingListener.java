package dev.tfkd.training;

/**
 * Observes a training run: progress display, logs, early stopping and the like live in listeners, not in the loop.
 * Called on the training thread; keep work short.
 */
public interface TrainingListener {

  /** After every step. */
  default void onStep(StepMetrics step) {}

  /** After every epoch. */
  default void onEpoch(EpochMetrics epoch) {}

  /**
   * Asked after every {@link #onStep}: {@code true} ends the run there (the epoch so far is reported and the
   * weights are saved as usual). For time-boxed runs such as benchmarks.
   */
  default boolean stopRequested() {
    return false;
  }

  /**
   * One step's figures.
   *
   * @param epoch the epoch, from 0
   * @param step the step within the epoch, from 0
   * @param stepsPerEpoch steps in each epoch
   * @param globalStep steps since the run began, from 0
   * @param examples examples in this step's batch
   * @param learningRate the rate used
   * @param total total loss
   * @param hard label loss
   * @param soft teacher or regulariser loss
   */
  record StepMetrics(
      int epoch,
      int step,
      int stepsPerEpoch,
      long globalStep,
      int examples,
      float learningRate,
      float total,
      float hard,
      float soft) {}

  /**
   * One epoch's figures: example-weighted means of the step losses.
   *
   * @param epoch the epoch, from 0
   * @param total mean total loss
   * @param hard mean label loss
   * @param soft mean teacher or regulariser loss
   * @param seconds wall time of the epoch
   */
  record EpochMetrics(int epoch, double total, double hard, double soft, double seconds) {}
}
