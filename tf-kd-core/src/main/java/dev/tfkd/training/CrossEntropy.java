package dev.tfkd.training;

import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Cross-entropy with the labels: maximum log-likelihood (MLL), the standard teacher objective and the objective
 * of a student trained alone.
 */
public record CrossEntropy() implements Objective {
  @Override
  public String describe() {
    return "ce";
  }

  @Override
  public boolean needsTeacher() {
    return false;
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    Operand<TFloat32> ce = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    return new LossTerms(ce, ce, tf.constant(0f));
  }
}
