package dev.tfkd.objectives;

import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import dev.tfkd.training.Objective;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The mean squared error between the softmax output and the one-hot label, {@code mean_i sum_k (softmax(z_i)_k -
 * 1[y_i = k])^2} (the Brier score), as a teacher objective ("How to Train the Teacher Model for Effective Knowledge
 * Distillation", ECCV 2024: an MSE-trained teacher's output approximates the true posterior). Reported parts:
 * hard = total = the MSE, soft = 0.
 */
public record MseToOneHot() implements Objective {
  @Override
  public String describe() {
    return "mse(softmax, one-hot)";
  }

  @Override
  public boolean needsTeacher() {
    return false;
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    Operand<TFloat32> diff = tf.math.sub(tf.nn.softmax(logits), context.oneHot());
    Operand<TFloat32> mse = SoftmaxOps.mean(tf, SoftmaxOps.rowSum(tf, tf.math.square(diff)));
    return new LossTerms(mse, mse, tf.constant(0f));
  }
}
