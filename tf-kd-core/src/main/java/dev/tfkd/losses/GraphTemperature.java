package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A distillation temperature inside the graph: one constant for the batch, or one value per example (a
 * per-example policy such as {@link Cswt}). Divergences divide logits by {@link #divisor()} and scale per-example
 * values by {@link #squared()}, so the same code serves both cases.
 *
 * @param divisor a scalar, or {@code [batch, 1]} so that it broadcasts over the classes
 * @param squared {@code T^2}: a scalar, or {@code [batch]}
 */
public record GraphTemperature(Operand<TFloat32> divisor, Operand<TFloat32> squared) {

  /** The constant temperature {@code t}. */
  public static GraphTemperature constant(Ops tf, float t) {
    SoftmaxOps.checkTemperature(t);
    return new GraphTemperature(tf.constant(t), tf.constant(t * t));
  }

  /** One temperature per example, from a {@code [batch]} tensor of positive values. */
  public static GraphTemperature perExample(Ops tf, Operand<TFloat32> t) {
    return new GraphTemperature(tf.expandDims(t, tf.constant(-1)), tf.math.square(t));
  }

  /** {@code logits / T} for {@code [batch, K]} logits. */
  public Operand<TFloat32> scale(Ops tf, Operand<TFloat32> logits) {
    return tf.math.div(logits, divisor);
  }

  /** {@code log softmax(logits / T)} along the classes. */
  public Operand<TFloat32> logSoftmax(Ops tf, Operand<TFloat32> logits) {
    return tf.nn.logSoftmax(scale(tf, logits));
  }

  /** {@code T^2 * perExample} for a {@code [batch]} tensor. */
  public Operand<TFloat32> timesSquared(Ops tf, Operand<TFloat32> perExample) {
    return tf.math.mul(perExample, squared);
  }
}
