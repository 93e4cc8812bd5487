package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Shared graph fragments for losses: tempered log-softmax, log-sum-exp, log-add-exp, row sums, KL from
 * log-probabilities, cross-entropy. Everything stays in log space so that logits of any finite magnitude give
 * finite values and gradients.
 */
public final class SoftmaxOps {
  private SoftmaxOps() {}

  /** A large finite number subtracted from logits to mask classes out of a softmax (exp of it is exactly 0). */
  static final float MASK = 1e9f;

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

  /**
   * {@code log sum_k exp(x_k)} along {@code axis}, keeping that axis with size 1. The shift by the (gradient-free)
   * maximum keeps every exponent at or below 0; the gradient is the softmax either way.
   */
  public static Operand<TFloat32> logSumExp(Ops tf, Operand<TFloat32> x, int axis) {
    Operand<TInt32> ax = tf.constant(axis);
    Operand<TFloat32> max = tf.stopGradient(tf.reduceMax(x, ax, ReduceMax.keepDims(true)));
    return tf.math.add(
        max, tf.math.log(tf.reduceSum(tf.math.exp(tf.math.sub(x, max)), ax, ReduceSum.keepDims(true))));
  }

  /** {@code log(exp(a) + exp(b))} element-wise, as {@code max + log(1 + exp(-|a - b|))}. */
  public static Operand<TFloat32> logAddExp(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    Operand<TFloat32> max = tf.math.maximum(a, b);
    Operand<TFloat32> gap = tf.math.neg(tf.math.abs(tf.math.sub(a, b)));
    return tf.math.add(max, tf.math.log(tf.math.add(tf.constant(1f), tf.math.exp(gap))));
  }

  /** {@code sum_k exp(logP_k) (logP_k - logQ_k)}: KL(p || q) per row, from log-probabilities. */
  public static Operand<TFloat32> kl(Ops tf, Operand<TFloat32> logP, Operand<TFloat32> logQ) {
    return rowSum(tf, tf.math.mul(tf.math.exp(logP), tf.math.sub(logP, logQ)));
  }

  /** Log of the renormalised distribution over the non-target classes; the target entry is masked out. */
  static Operand<TFloat32> nonTargetLogSoftmax(Ops tf, Operand<TFloat32> scaledLogits, Operand<TFloat32> oneHot) {
    return tf.nn.logSoftmax(tf.math.sub(scaledLogits, tf.math.mul(oneHot, tf.constant(MASK))));
  }

  /** The batch size of {@code x} ({@code [batch, ...]}) as a float scalar, outside any gradient. */
  static Operand<TFloat32> batchSize(Ops tf, Operand<TFloat32> x) {
    Operand<TInt32> shape = tf.shape(tf.stopGradient(x));
    Operand<TInt32> b = tf.reshape(tf.slice(shape, tf.constant(new int[] {0}), tf.constant(new int[] {1})), tf.constant(new int[0]));
    return tf.dtypes.cast(b, TFloat32.class);
  }

  static void checkTemperature(float t) {
    if (!(t > 0) || Float.isInfinite(t)) {
      throw new IllegalArgumentException("temperature must be positive and finite, got " + t);
    }
  }

  static void checkFinite(String what, float v) {
    if (!Float.isFinite(v)) {
      throw new IllegalArgumentException(what + " must be finite, got " + v);
    }
  }

  static void checkRange(String what, float v, float lo, boolean loInclusive, float hi, boolean hiInclusive) {
    boolean ok = (loInclusive ? v >= lo : v > lo) && (hiInclusive ? v <= hi : v < hi);
    if (!ok) {
      throw new IllegalArgumentException(
          what + " must be in " + (loInclusive ? "[" : "(") + lo + ", " + hi + (hiInclusive ? "]" : ")") + ", got " + v);
    }
  }
}
