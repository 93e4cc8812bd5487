package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Shared graph fragments for losses: tempered log-softmax, row sums, cross-entropy. */
public final class SoftmaxOps {
  private SoftmaxOps() {}

  /** {@code log softmax(logits / T)} along the last axis. */
  public static Operand<TFloat32> logSoftmax(Ops tf, Operand<TFloat32> logits, float temperature) {
    Operand<TFloat32> scaled = temperature == 1f ? logits : tf.math.div(logits, tf.constant(temperature));
    return tf.nn.logSoftmax(scaled);
  }

  /** Sum over the last axis of a {@code [batch, K]} tensor: {@code [batch]}. */
  public static Operand<TFloat32> rowSum(Ops tf, Operand<TFloat32> x) {
    return tf.reduceSum(x, tf.constant(-1));
  }

  /** Mean over all elements: a scalar. */
  public static Operand<TFloat32> mean(Ops tf, Operand<TFloat32> x) {
    return tf.math.mean(tf.reshape(x, tf.constant(new long[] {-1})), tf.constant(0));
  }

  /** Per-example cross-entropy {@code -sum_k y_k log softmax(z)_k}: {@code [batch]}. */
  public static Operand<TFloat32> crossEntropy(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> targets) {
    return tf.math.neg(rowSum(tf, tf.math.mul(targets, tf.nn.logSoftmax(logits))));
  }

  static void checkTemperature(float t) {
    if (!(t > 0) || Float.isInfinite(t)) {
      throw new IllegalArgumentException("temperature must be positive and finite, got " + t);
    }
  }
}
