package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Batches;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * What a {@link TrainingHook} may see of a running training: the session, the graph's inputs, labels and logits,
 * and the training data. Valid only during the run that passed it.
 */
public final class TrainingContext {
  private final Session session;
  private final Operand<TFloat32> inputs;
  private final Operand<TInt32> labels;
  private final Operand<TFloat32> logits;
  private final Operand<TFloat32> inferenceLogits;
  private final Dataset train;

  /** The context of a run training on {@code train} in {@code graph}, whose session is {@code session}. */
  TrainingContext(Session session, TrainingGraph graph, Dataset train) {
    this.session = session;
    this.inputs = graph.x();
    this.labels = graph.labels();
    this.logits = graph.logits();
    this.inferenceLogits = graph.evalLogits();
    this.train = train;
  }

  /**
   * The session training runs in; owned by the trainer, do not close it.
   *
   * @return the session
   */
  public Session session() {
    return session;
  }

  /** The input placeholder. */
  public Operand<TFloat32> inputs() {
    return inputs;
  }

  /** The label placeholder (int32 {@code [batch]}); fetching it returns the step's fed labels. */
  public Operand<TInt32> labels() {
    return labels;
  }

  /** The model's logits in the training graph. */
  public Operand<TFloat32> logits() {
    return logits;
  }

  /** The data being trained on. */
  public Dataset train() {
    return train;
  }

  /**
   * The model's current logits for every example of {@code data} ({@code size x K}, row-major), computed by the
   * training graph's forward pass without updating anything. Layers with training-mode behaviour (dropout, batch
   * statistics) behave as in training.
   */
  public float[] logits(Dataset data) {
    return Batches.logits(session, inputs, logits, train.numClasses(), data, 512);
  }

  /**
   * The model's current logits for every example of {@code data} ({@code size x K}, row-major) from the inference-
   * mode forward pass on the same variables (dropout off, batch-norm moving statistics), as validation scores it.
   */
  public float[] inferenceLogits(Dataset data) {
    return Batches.logits(
        session, inputs, inferenceLogits, train.numClasses(), data, Batches.defaultBatchSize(data.exampleSize()));
  }
}
