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

  /**
   * The constant temperature {@code t}.
   *
   * @param tf where to add the ops
   * @param t the temperature, in the bounds of {@link Parameter#temperature}
   * @return the temperature as graph constants
   */
  public static GraphTemperature constant(Ops tf, float t) {
    SoftmaxOps.checkTemperature(t);
    return new GraphTemperature(tf.constant(t), tf.constant(t * t));
  }

  /**
   * One temperature per example, from a {@code [batch]} tensor of positive values.
   *
   * @param tf where to add the ops
   * @param t {@code [batch]} temperatures
   * @return the temperatures, shaped to broadcast
   */
  public static GraphTemperature perExample(Ops tf, Operand<TFloat32> t) {
    return new GraphTemperature(tf.expandDims(t, tf.constant(-1)), tf.math.square(t));
  }

  /**
   * {@code logits / T} for {@code [batch, K]} logits.
   *
   * @param tf where to add the ops
   * @param logits {@code [batch, K]} logits
   * @return {@code [batch, K]}
   */
  public Operand<TFloat32> scale(Ops tf, Operand<TFloat32> logits) {
    return tf.math.div(logits, divisor);
  }

  /**
   * {@code log softmax(logits / T)} along the classes.
   *
   * @param tf where to add the ops
   * @param logits {@code [batch, K]} logits
   * @return {@code [batch, K]} log-probabilities
   */
  public Operand<TFloat32> logSoftmax(Ops tf, Operand<TFloat32> logits) {
    return tf.nn.logSoftmax(scale(tf, logits));
  }

  /**
   * {@code T^2 * perExample} for a {@code [batch]} tensor.
   *
   * @param tf where to add the ops
   * @param perExample {@code [batch]} values
   * @return {@code [batch]}
   */
  public Operand<TFloat32> timesSquared(Ops tf, Operand<TFloat32> perExample) {
    return tf.math.mul(perExample, squared);
  }
}
