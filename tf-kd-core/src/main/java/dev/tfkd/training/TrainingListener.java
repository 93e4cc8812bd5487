package dev.tfkd.training;

import dev.tfkd.metrics.Evaluation;
import java.util.List;

/**
 * Observes a training run: progress display, logs, early stopping and the like live in listeners, not in the loop.
 * Called on the training thread; keep work short.
 */
public interface TrainingListener {

  /**
   * Before the first step of a resumed run, with the epochs restored from the checkpoint (so a log can drop what
   * it wrote after that checkpoint, and early stopping can recover its count).
   */
  default void onResume(List<EpochMetrics> history) {}

  /**
   * Before the first step of the run (after a resume's restore), with what a listener may read of the running
   * training: the session, the graph's inputs and logits, the data. The context is valid until the run returns.
   */
  default void onStart(TrainingContext context) {}

  /** After every step. */
  default void onStep(StepMetrics step) {}

  /**
   * At the end of every epoch, before its record is checkpointed and handed to {@link #onEpoch}: returns the
   * record completed with what this listener measures (e.g. {@link Validation} adds the validation figures), or the
   * record as it is (the default). Called in listener order, each on the previous listener's result; the epoch's
   * {@code seconds} are measured afterwards, so they include this work.
   */
  default EpochMetrics completeEpoch(EpochMetrics epoch) {
    return epoch;
  }

  /** After every epoch, once its checkpoint (if any) is safely on disk. */
  default void onEpoch(EpochMetrics epoch) {}

  /**
   * Asked after every step and every epoch: {@code true} ends the run there (early stopping after an epoch; a
   * time-boxed benchmark after a step, when the epoch so far is reported). The weights are saved as usual.
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
   * @param accuracy fraction of the batch whose arg-max logit (before this step's update) is the label
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
      float soft,
      float accuracy) {}

  /**
   * One epoch's figures: example-weighted means of the step losses, and the validation figures if the run has
   * validation data.
   *
   * @param epoch the epoch, from 0
   * @param total mean total loss
   * @param hard mean label loss
   * @param soft mean teacher or regulariser loss
   * @param seconds wall time of the epoch
   * @param accuracy training accuracy over the epoch (each batch scored before its update)
   * @param learningRate the rate of the epoch's last step
   * @param globalStep steps completed at the end of the epoch
   * @param validation the model after this epoch on the validation data, or {@code null} without one
   * @param trainCmi empirical CMI {@code (1/N) sum_i KL(P_i || Q_{y_i})} over the epoch's training batches, each
   *     scored before its update (as {@code accuracy} is), centroids from the same predictions; NaN if not measured
   */
  record EpochMetrics(
      int epoch,
      double total,
      double hard,
      double soft,
      double seconds,
      double accuracy,
      double learningRate,
      long globalStep,
      Evaluation validation,
      double trainCmi) {

    /** Without a training CMI. */
    public EpochMetrics(
        int epoch, double total, double hard, double soft, double seconds, double accuracy, double learningRate,
        long globalStep, Evaluation validation) {
      this(epoch, total, hard, soft, seconds, accuracy, learningRate, globalStep, validation, Double.NaN);
    }

    /** The same figures with {@code newValidation} as the validation figures. */
    public EpochMetrics withValidation(Evaluation newValidation) {
      return new EpochMetrics(
          epoch, total, hard, soft, seconds, accuracy, learningRate, globalStep, newValidation, trainCmi);
    }

    /** The same figures with {@code newSeconds} as the epoch's wall time. */
    public EpochMetrics withSeconds(double newSeconds) {
      return new EpochMetrics(
          epoch, total, hard, soft, newSeconds, accuracy, learningRate, globalStep, validation, trainCmi);
    }

    /** The same figures, {@code epochs} epochs and {@code steps} steps later (a later phase of one run). */
    public EpochMetrics shifted(int epochs, long steps) {
      return new EpochMetrics(
          epoch + epochs, total, hard, soft, seconds, accuracy, learningRate, globalStep + steps, validation, trainCmi);
    }

    /** Losses and time only. */
    public EpochMetrics(int epoch, double total, double hard, double soft, double seconds) {
      this(epoch, total, hard, soft, seconds, Double.NaN, Double.NaN, -1, null, Double.NaN);
    }
  }
}
