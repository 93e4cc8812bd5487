package dev.tfkd.training;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.proto.ConfigProto;

/**
 * The result of a training run: the architecture, a checkpoint of its trained variables, and the per-epoch
 * history. The checkpoint lives in the work directory the caller gave the trainer, which the caller owns.
 *
 * @param architecture what was trained
 * @param checkpointPrefix the {@code Session.save} prefix of the trained variables
 * @param history one entry per epoch
 * @param trainableParameters the number of trained scalars
 */
public record TrainedModel(
    Architecture architecture,
    Path checkpointPrefix,
    List<TrainingListener.EpochMetrics> history,
    long trainableParameters) {

  /** Copies the history. */
  public TrainedModel {
    history = List.copyOf(history);
  }

  /** The trained variable values by name, to fine-tune from (see {@link TrainingSetup#fineTune}). */
  public java.util.Map<String, float[]> variableValues(ConfigProto config) {
    try (InferenceModel m = load(config)) {
      return m.variableValues();
    }
  }

  /** Rebuilds the model as an inference graph with the trained values. The caller closes it. */
  public InferenceModel load(ConfigProto config) {
    return InferenceModel.restore(architecture, checkpointPrefix, config);
  }

  /** As {@link #load(ConfigProto)}, with preprocessing baked into the graph and class labels for classify. */
  public InferenceModel load(ConfigProto config, InferenceModel.Options options) {
    return InferenceModel.restore(architecture, checkpointPrefix, config, options);
  }
}
