package dev.tfkd.objectives;

import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import dev.tfkd.training.Objective;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Cross-entropy with label smoothing (Szegedy et al. 2016): targets {@code (1 - epsilon) onehot(y) + epsilon / K}.
 * Reported parts: hard = total = the smoothed CE, soft = 0.
 *
 * @param epsilon the smoothing, in [0, 1)
 */
public record LabelSmoothing(float epsilon) implements Objective {
  /** Default smoothing epsilon. */
  public static final float DEFAULT_EPSILON = 0.1f;

  /** Validates epsilon; throws IllegalArgumentException outside [0, 1). */
  public LabelSmoothing {
    if (!(epsilon >= 0 && epsilon < 1)) {
      throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + epsilon);
    }
  }

  @Override
  public String describe() {
    return "ce(label smoothing " + epsilon + ")";
  }

  @Override
  public boolean needsTeacher() {
    return false;
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    // Each row of `uniform` is 1/K, whatever K is.
    Operand<TFloat32> ones = tf.onesLike(context.oneHot());
    Operand<TFloat32> uniform =
        tf.math.div(ones, tf.reduceSum(ones, tf.constant(-1), org.tensorflow.op.core.ReduceSum.keepDims(true)));
    Operand<TFloat32> targets =
        tf.math.add(
            tf.math.mul(tf.constant(1 - epsilon), context.oneHot()), tf.math.mul(tf.constant(epsilon), uniform));
    Operand<TFloat32> ce = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, targets));
    return new LossTerms(ce, ce, tf.constant(0f));
  }
}
