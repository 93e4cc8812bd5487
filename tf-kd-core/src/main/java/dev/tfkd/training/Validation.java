package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.metrics.Metrics;
import java.util.Objects;

/**
 * Scores validation data at the end of every epoch: the model's inference-mode forward pass on the current weights
 * ({@link TrainingContext#inferenceLogits}), in the training session, scored by {@link Metrics#evaluate}. The
 * figures go into the epoch's record ({@link TrainingListener.EpochMetrics#validation()}) before it is checkpointed
 * and handed to the other listeners (logs, early stopping, progress). {@link Trainer} adds one for {@link
 * Trainer.RunOptions#validation()}. One instance per run; not thread-safe.
 */
public final class Validation implements TrainingListener {
  private final Dataset data;
  private TrainingContext context;

  /** Scores {@code data} after every epoch. */
  public Validation(Dataset data) {
    this.data = Objects.requireNonNull(data, "data");
  }

  /** The data scored. */
  public Dataset data() {
    return data;
  }

  @Override
  public void onStart(TrainingContext context) {
    this.context = context;
  }

  @Override
  public EpochMetrics completeEpoch(EpochMetrics epoch) {
    if (context == null) {
      throw new IllegalStateException("validation needs a running training: onStart was not called");
    }
    return epoch.withValidation(Metrics.evaluate(context.inferenceLogits(data), data));
  }
}
