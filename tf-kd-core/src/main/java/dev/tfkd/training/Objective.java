package dev.tfkd.training;

import dev.tfkd.losses.LossContext;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * What a model is trained to minimise, as a graph builder. Returns the total loss and its hard (label) and soft
 * (teacher or regulariser) parts, all scalars averaged over the batch, so they can be reported separately.
 */
public interface Objective {

  /** A short description for logs and provenance, e.g. {@code 0.1*ce + 0.9*kl(T=4)}. */
  String describe();

  /** Whether the objective reads teacher logits; if so the trainer must be given them. */
  boolean needsTeacher();

  /**
   * Whether the objective's teacher is the model itself (self-distillation, e.g. {@link
   * ProgressiveSelfDistillation}). The trainer then needs no teacher logits: it feeds, in their place, each
   * example's own logits recorded during the previous epoch's training step (zeros during the first epoch), and
   * records the current ones. Excludes {@link #needsTeacher()}. Default false.
   */
  default boolean usesOwnPredictions() {
    return false;
  }

  /**
   * How many teachers' logits the objective reads side by side: the fed teacher logits are {@code [batch,
   * teachers() * K]} (see {@link MultiTeacherDistillation}). Default 1.
   */
  default int teachers() {
    return 1;
  }

  /**
   * Training hooks the objective itself needs (e.g. {@link TeacherDraw}); the trainer runs them after the setup's
   * own hooks. Default none.
   */
  default java.util.List<TrainingHook> hooks() {
    return java.util.List.of();
  }

  /**
   * Adds the loss to the graph.
   *
   * @param logits the model's logits {@code [batch, K]}
   * @param teacherLogits the teacher's logits {@code [batch, K]} ({@code [batch, teachers() * K]} for several; the model's own previous-epoch logits when {@link
   *     #usesOwnPredictions()}), or {@code null} when neither {@link #needsTeacher()} nor {@link
   *     #usesOwnPredictions()} holds
   */
  LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context);

  /**
   * Whether the objective reads feature points ({@link dev.tfkd.graph.FeaturePoint}) of the student and the teacher
   * besides the logits (feature distillation). The trainer then builds the teacher into the student's graph and
   * calls {@link #build(Ops, Operand, Operand, LossContext, FeatureInputs)}. Default false.
   *
   * @return whether features are read
   */
  default boolean needsFeatures() {
    return false;
  }

  /**
   * Adds the loss to the graph, with the feature points of both networks at hand. The default ignores them and
   * calls {@link #build(Ops, Operand, Operand, LossContext)}.
   *
   * @param tf where to add the ops
   * @param logits the model's logits {@code [batch, K]}
   * @param teacherLogits the teacher's logits, as for {@link #build(Ops, Operand, Operand, LossContext)}
   * @param context labels and training progress
   * @param features the feature points of student and teacher and where adapters create their variables
   * @return the loss terms
   */
  default LossTerms build(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context, FeatureInputs features) {
    return build(tf, logits, teacherLogits, context);
  }

  /**
   * Scalar parts of a loss.
   *
   * @param total what the optimizer minimises
   * @param hard the part that compares with the labels
   * @param soft the part that compares with the teacher (or a regulariser); zero when there is none
   */
  record LossTerms(Operand<TFloat32> total, Operand<TFloat32> hard, Operand<TFloat32> soft) {}
}
