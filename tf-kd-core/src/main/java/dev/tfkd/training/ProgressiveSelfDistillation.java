package dev.tfkd.training;

import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Progressive self-knowledge distillation (PS-KD; Kim et al., ICCV 2021, "Self-Knowledge Distillation with
 * Progressive Refinement of Targets"): a student trained with no teacher, whose target for example i at epoch t is
 *
 * <pre>
 *   y~_i = (1 - a_t) onehot(y_i) + a_t softmax(z_i^(t-1)),   a_t = alphaT * min(1, t / (epochs - 1))
 *   loss = CE(y~_i, softmax(z_i)) = (1 - a_t) CE(onehot, .) + a_t CE(softmax(z^(t-1)), .)
 * </pre>
 *
 * where {@code z_i^(t-1)} are the model's own logits for that example from the previous epoch's training step
 * (the trainer records and feeds them: {@link #usesOwnPredictions()}), and t counts epochs from 0, so a_0 = 0 (no
 * predictions exist yet) and a reaches alphaT at the last epoch. The reported hard part is {@code CE(onehot, .)},
 * the soft part {@code CE(softmax(z^(t-1)), .)}; the total is their a_t-weighted sum.
 *
 * @param finalAlpha alphaT, in [0, 1] (paper default 0.8)
 * @param epochs the training run's epochs, >= 1, over which a_t grows linearly
 */
public record ProgressiveSelfDistillation(float finalAlpha, int epochs) implements Objective {
  /** Default final alpha. */
  public static final float DEFAULT_FINAL_ALPHA = 0.8f;

  /**
   * Validates the parameters; throws IllegalArgumentException for a final alpha outside [0, 1] or fewer than one epoch.
   */
  public ProgressiveSelfDistillation {
    if (!(finalAlpha >= 0 && finalAlpha <= 1)) {
      throw new IllegalArgumentException("PS-KD final alpha must be in [0, 1], got " + finalAlpha);
    }
    if (epochs < 1) {
      throw new IllegalArgumentException("PS-KD epochs must be >= 1, got " + epochs);
    }
  }

  /** PS-KD with the paper's alphaT = 0.8 over the whole of {@code config}'s epochs. */
  public static ProgressiveSelfDistillation forRun(TrainConfig config) {
    return new ProgressiveSelfDistillation(DEFAULT_FINAL_ALPHA, config.epochs());
  }

  @Override
  public String describe() {
    return "ps-kd(alphaT=" + finalAlpha + ", epochs=" + epochs + ")";
  }

  @Override
  public boolean needsTeacher() {
    return false;
  }

  @Override
  public boolean usesOwnPredictions() {
    return true;
  }

  /** a_t for the fed epoch (from 0), as a graph scalar. */
  Operand<TFloat32> alpha(Ops tf, Operand<TFloat32> epoch) {
    float perEpoch = finalAlpha / Math.max(1, epochs - 1);
    return tf.math.minimum(tf.constant(finalAlpha), tf.math.mul(tf.constant(perEpoch), epoch));
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> ownPrevious, LossContext context) {
    Operand<TFloat32> previous = tf.nn.softmax(tf.stopGradient(ownPrevious));
    Operand<TFloat32> hard = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    Operand<TFloat32> soft = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, previous));
    Operand<TFloat32> a = alpha(tf, context.epoch());
    Operand<TFloat32> total =
        tf.math.add(tf.math.mul(tf.math.sub(tf.constant(1f), a), hard), tf.math.mul(a, soft));
    return new LossTerms(total, hard, soft);
  }
}
