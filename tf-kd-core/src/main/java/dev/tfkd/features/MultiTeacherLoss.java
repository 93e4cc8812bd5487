package dev.tfkd.features;

import dev.tfkd.losses.LossContext;
import dev.tfkd.training.FeatureInputs;
import dev.tfkd.training.Objective;
import dev.tfkd.training.TeacherCombination;
import dev.tfkd.training.TeacherCombiner;
import dev.tfkd.training.TrainingHook;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A {@link LossSpec} with {@code M} teachers ({@link LossSpec#withTeachers}). The cross-entropy term is as with one
 * teacher; each divergence term is combined over the teachers as its {@link TeacherCombination} says (for
 * divergences alone, {@code ce:a, D:b} is exactly {@link dev.tfkd.training.MultiTeacherDistillation} with weights
 * a and b); each feature term is computed against every teacher, teacher {@code m} with its own adapters (named
 * with {@code _t<m>_}, m from 1, when M > 1), and the M values are combined as {@code sum_m w_m value_m} with the
 * batch's teacher weights ({@link TeacherCombiner#batchWeights}): {@code mean-probs} and {@code mean-loss} {@code
 * 1/M} each, {@code weighted} the fixed weights, {@code ca-mkd} the batch mean of each teacher's per-example
 * weights, {@code random} the drawn teacher only. One teacher given twice therefore equals that teacher alone,
 * and weights {@code (1, 0)} the first teacher alone.
 *
 * <p>The teachers' logits are fed (or computed in the graph) side by side, {@code [batch, M * K]}; feature terms
 * read the teachers' points in {@link FeatureInputs#teachers()}, in the same order. A random combination's draw
 * is a hook ({@link #hooks()}); such an objective serves one training graph.
 */
public final class MultiTeacherLoss implements Objective {
  private final LossSpec spec;
  private final TeacherCombiner combiner;

  MultiTeacherLoss(LossSpec spec, TeacherCombiner combiner) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.combiner = combiner;
    if (combiner.combination().mode() == TeacherCombination.Mode.MEAN_PROBS) {
      for (LossSpec.Term t : spec.terms()) {
        if (t.divergence() != null && !(t.divergence() instanceof dev.tfkd.losses.Tempered)) {
          throw new IllegalArgumentException(
              "mean-probs averages the teachers' probabilities at the divergence's temperature; "
                  + t.divergence().spec() + " has no single temperature: use mean-loss, weighted, ca-mkd or random");
        }
      }
    }
  }

  /**
   * The loss with one teacher.
   *
   * @return the loss spec
   */
  public LossSpec spec() {
    return spec;
  }

  /**
   * The combination.
   *
   * @return the combination
   */
  public TeacherCombination combination() {
    return combiner.combination();
  }

  /**
   * The random mode's draw, or {@code null} for the other modes.
   *
   * @return the draw
   */
  public dev.tfkd.training.TeacherDraw draw() {
    return combiner.draw();
  }

  /** {@code mean-loss[2 teachers](ce:1, kl(T=4):0.9, at:1000)}. */
  @Override
  public String describe() {
    int m = combiner.teachers();
    return combination().describe() + "[" + m + (m == 1 ? " teacher](" : " teachers](") + spec.describe() + ")";
  }

  @Override
  public boolean needsTeacher() {
    return spec.needsTeacher();
  }

  @Override
  public boolean needsFeatures() {
    return spec.needsFeatures();
  }

  /** M: the teacher logits are {@code [batch, M * K]}. */
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
    if (needsFeatures()) {
      throw new IllegalStateException(describe() + " reads feature points: build it with FeatureInputs");
    }
    return build(tf, logits, teacherLogits, context, null);
  }

  @Override
  public LossTerms build(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context, FeatureInputs features) {
    if (needsTeacher()) {
      Objects.requireNonNull(teacherLogits, "teacherLogits");
    }
    Operand<TFloat32> all = teacherLogits == null ? null : tf.stopGradient(teacherLogits);
    int m = combiner.teachers();
    // One set of batch weights serves every feature term, built even for one teacher: a random combination's draw
    // must be read by the graph.
    Operand<TFloat32> weights = needsFeatures() ? combiner.batchWeights(tf, logits, all, context) : null;
    return spec.build(tf, logits, context, (i, t) -> {
      if (t.divergence() != null) {
        return combiner.divergence(tf, t.divergence(), logits, all, context);
      }
      Objects.requireNonNull(features, "features");
      if (features.teachers().size() != m) {
        throw new IllegalArgumentException(
            describe() + " reads " + m + " teachers' feature points; the graph holds " + features.teachers().size());
      }
      List<Operand<TFloat32>> values = new ArrayList<>();
      for (int teacher = 0; teacher < m; teacher++) {
        String prefix = LossSpec.adapterPrefix(i, t) + (m == 1 ? "" : "t" + (teacher + 1) + "_");
        values.add(t.feature().loss(tf, features.forTeacher(teacher), prefix));
      }
      return m == 1 ? values.get(0) : TeacherCombiner.weightedSum(tf, values, weights);
    });
  }

  @Override
  public String toString() {
    return describe();
  }
}
