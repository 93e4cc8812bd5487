package dev.tfkd.training;

import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The student's objective: {@code ceWeight * CE(y, softmax(z_s)) + kdWeight * mean_i divergence_i(z_s, z_t)}.
 * Both weights are explicit; any temperature and T^2 factor belong to the divergence.
 *
 * @param ceWeight weight of the hard (label) loss, {@code >= 0}
 * @param kdWeight weight of the soft (teacher) loss, {@code >= 0}
 * @param divergence the per-example divergence
 */
public record Distillation(float ceWeight, float kdWeight, Divergence divergence) implements Objective {
  /** Validates the weights; throws IllegalArgumentException when one is negative or infinite, or both are zero. */
  public Distillation {
    Objects.requireNonNull(divergence, "divergence");
    if (!(ceWeight >= 0) || !(kdWeight >= 0) || Float.isInfinite(ceWeight) || Float.isInfinite(kdWeight)) {
      throw new IllegalArgumentException(
          "ce and kd weights must be finite and >= 0, got " + ceWeight + " and " + kdWeight);
    }
    if (ceWeight == 0 && kdWeight == 0) {
      throw new IllegalArgumentException("ce and kd weights are both 0: nothing to train");
    }
  }

  /** {@code 0.1*ce + 0.9*kl(T=4)}: the weights, and the divergence as its {@link Divergence#spec() spec}. */
  @Override
  public String describe() {
    return Divergences.number(ceWeight) + "*ce + " + Divergences.number(kdWeight) + "*" + divergence.spec();
  }

  @Override
  public boolean needsTeacher() {
    return true;
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    Operand<TFloat32> hard = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    Operand<TFloat32> soft =
        SoftmaxOps.mean(tf, divergence.perExample(tf, logits, tf.stopGradient(teacherLogits), context));
    Operand<TFloat32> total =
        tf.math.add(tf.math.mul(tf.constant(ceWeight), hard), tf.math.mul(tf.constant(kdWeight), soft));
    return new LossTerms(total, hard, soft);
  }
}
