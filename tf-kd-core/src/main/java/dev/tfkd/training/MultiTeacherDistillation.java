package dev.tfkd.training;

import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The student's objective with several teachers: {@code ceWeight * CE(y, softmax(z_s)) + kdWeight * soft}, where
 * {@code soft} combines the divergences to {@code M} teachers as {@link TeacherCombination} says (each mode's
 * formula and its {@code T^2} scaling are there; {@link TeacherCombiner} builds it). With one teacher every mode
 * equals {@link Distillation}.
 *
 * <p>The teachers' logits are fed side by side, {@code [batch, M * K]}: example {@code i}'s row holds teacher 1's K
 * logits, then teacher 2's, and so on ({@link #teachers()} tells the trainer the width). A {@link
 * TeacherCombination.Mode#RANDOM} objective owns a {@link TeacherDraw} that the trainer runs as a hook ({@link
 * #hooks()}); such an objective serves one training graph. Reported parts: hard = CE, soft = the combined
 * divergence.
 */
public final class MultiTeacherDistillation implements Objective {
  private final float ceWeight;
  private final float kdWeight;
  private final Divergence divergence;
  private final TeacherCombiner combiner;

  /**
   * @param ceWeight weight of the label cross-entropy, finite and {@code >= 0}
   * @param kdWeight weight of the combined divergence, finite and {@code >= 0} (not both 0)
   * @param divergence the per-example divergence to each teacher
   * @param combination how the teachers are combined
   * @param teachers M, at least 1; a weighted combination has exactly M weights
   * @param seed the run's seed (draws the teacher of each batch for {@link TeacherCombination.Mode#RANDOM})
   * @throws IllegalArgumentException for bad weights, a weight count other than M, or {@code mean-probs} with a
   *     divergence that has no single temperature
   */
  public MultiTeacherDistillation(
      float ceWeight, float kdWeight, Divergence divergence, TeacherCombination combination, int teachers, long seed) {
    // The same checks as one teacher's objective.
    new Distillation(ceWeight, kdWeight, divergence);
    this.combiner = new TeacherCombiner(combination, teachers, seed);
    combiner.checkDivergence(divergence);
    this.ceWeight = ceWeight;
    this.kdWeight = kdWeight;
    this.divergence = divergence;
  }

  /** The combination. */
  public TeacherCombination combination() {
    return combiner.combination();
  }

  /** The per-example divergence. */
  public Divergence divergence() {
    return divergence;
  }

  /** The random mode's draw (to inspect which teacher each step used), or {@code null} for the other modes. */
  public TeacherDraw draw() {
    return combiner.draw();
  }

  /** {@code 0.1*ce + 0.9*ca-mkd[3 teachers](kl(T=4))}. */
  @Override
  public String describe() {
    int teachers = combiner.teachers();
    return Divergences.number(ceWeight) + "*ce + " + Divergences.number(kdWeight) + "*" + combination().describe() + "["
        + teachers + (teachers == 1 ? " teacher](" : " teachers](") + divergence.spec() + ")";
  }

  @Override
  public boolean needsTeacher() {
    return true;
  }

  /** M: the fed teacher logits are {@code [batch, M * K]}. */
  @Override
  public int teachers() {
    return combiner.teachers();
  }

  @Override
  public List<TrainingHook> hooks() {
    return combiner.hooks();
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    Operand<TFloat32> hard = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    Operand<TFloat32> soft = combiner.divergence(tf, divergence, logits, tf.stopGradient(teacherLogits), context);
    Operand<TFloat32> total =
        tf.math.add(tf.math.mul(tf.constant(ceWeight), hard), tf.math.mul(tf.constant(kdWeight), soft));
    return new LossTerms(total, hard, soft);
  }
}
