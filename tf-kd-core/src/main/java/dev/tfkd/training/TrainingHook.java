package dev.tfkd.training;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;

/**
 * Work a training run needs besides the loop itself: extra graph inputs fed with every step (e.g. class centroids),
 * values refreshed before each epoch from a pass over the data, values read back after every step. An objective
 * that needs such inputs creates its placeholders through its hook while its loss is built, and the caller passes
 * the same hook to {@link Trainer} in a {@link TrainingSetup}. Called on the training thread, in this order:
 * {@link #onStart} once, then per epoch {@link #beforeEpoch} and per step {@link #feed} and {@link #afterStep},
 * and {@link #onEnd} once at the end, also when training fails.
 */
public interface TrainingHook {

  /** Once the session has started and the variables hold their starting values, before the first epoch. */
  default void onStart(TrainingContext context) {}

  /** Before epoch {@code epoch} (from 0). */
  default void beforeEpoch(int epoch, TrainingContext context) {}

  /** Adds this hook's feeds to a step. Tensors it feeds stay owned by the hook. */
  default void feed(Session.Runner runner) {}

  /**
   * Outputs to fetch with every step; their values come back to {@link #afterStep} in this order. Must return the
   * same list on every call.
   */
  default List<Operand<?>> fetches() {
    return List.of();
  }

  /** After each step, with the values of {@link #fetches()}; the trainer owns and closes them. */
  default void afterStep(List<Tensor> fetched) {}

  /** At the end of the run, also on failure: release native memory the hook holds. */
  default void onEnd() {}

  /**
   * State this hook keeps outside the graph that a checkpoint must hold for a resumed run to continue exactly, by
   * name; asked when a checkpoint is written (after an epoch).
   */
  default java.util.Map<String, double[]> checkpointState() {
    return java.util.Map.of();
  }

  /**
   * On resume, after {@link #onStart} and the restore of the variables: the state {@link #checkpointState} gave
   * when the checkpoint was written.
   */
  default void restoreState(java.util.Map<String, double[]> state) {}
}
