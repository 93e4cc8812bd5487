package dev.tfkd.training;

import java.util.List;
import java.util.Map;

/**
 * How a training run starts and what it needs besides the objective.
 *
 * @param initialValues starting values of the model's variables by name (e.g. a trained model's, to fine-tune
 *     it; see {@link TrainedModel#variableValues}), or empty to start from seeded initial values. When given, every
 *     variable of the model must be in the map with the right size, and every entry must be used.
 * @param hooks extra feeds and per-epoch work, e.g. the centroids of an MCMI objective
 */
public record TrainingSetup(Map<String, float[]> initialValues, List<TrainingHook> hooks) {
  /** From scratch, no hooks. */
  public static final TrainingSetup NONE = new TrainingSetup(Map.of(), List.of());

  /** Copies the initial values and hooks. */
  public TrainingSetup {
    initialValues = Map.copyOf(initialValues);
    hooks = List.copyOf(hooks);
  }

  /** Starts from {@code values} (fine-tuning), with {@code hooks}. */
  public static TrainingSetup fineTune(Map<String, float[]> values, List<TrainingHook> hooks) {
    return new TrainingSetup(values, hooks);
  }

  /** From scratch, with {@code hooks}. */
  public static TrainingSetup withHooks(List<TrainingHook> hooks) {
    return new TrainingSetup(Map.of(), hooks);
  }
}
