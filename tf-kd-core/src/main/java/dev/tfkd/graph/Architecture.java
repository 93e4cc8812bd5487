package dev.tfkd.graph;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A neural network as a graph builder: given the input and a source of variables, it adds the forward pass to a
 * graph and returns the logits.
 *
 * <p>The same architecture is built twice over a model's life: once for training (variables created with seeded
 * initial values, batch statistics, dropout) and once for inference and export (variables restored from the
 * trained values, moving averages, no dropout). Variables are asked for by name from {@link Variables}, so the two
 * graphs agree on names and a checkpoint of one restores into the other. Implementations are immutable and
 * thread-safe; they hold no graph state.
 */
public interface Architecture {

  /** A short name, e.g. {@code mlp-20-256-256-10}. */
  String name();

  /** The shape of one example, without the batch dimension. */
  long[] inputShape();

  /** The number of classes K: the width of the logits. */
  int numClasses();

  /**
   * Adds the forward pass to the graph of {@code tf}.
   *
   * @param tf where to add the ops (already scoped by the caller)
   * @param inputs float32 {@code [batch, inputShape...]}
   * @param vars the source of variables; it decides whether they are trainable and how they start
   * @param mode training (batch statistics, dropout, update ops) or inference
   * @return the logits {@code [batch, K]} and the ops to run with each training step (e.g. moving averages)
   */
  Forward build(Ops tf, Operand<TFloat32> inputs, Variables vars, Mode mode);

  /**
   * The feature points {@link #build} returns ({@link Forward#features()}), with their shapes for one example:
   * known before any model is built.
   *
   * @return the points, in the order the forward pass reaches them, the logits last
   */
  default java.util.List<FeaturePoint> featurePoints() {
    return FeaturePoints.of(this);
  }

  /** Training or inference behaviour of layers such as batch normalisation and dropout. */
  enum Mode {
    /** Training: batch normalisation uses batch statistics and updates its moving averages, dropout is on. */
    TRAINING,
    /** Inference: batch normalisation uses its moving averages, dropout is off. */
    INFERENCE
  }
}
