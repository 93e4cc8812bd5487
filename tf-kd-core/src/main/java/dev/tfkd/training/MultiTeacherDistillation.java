package dev.tfkd.training;

import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import dev.tfkd.losses.Tempered;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The student's objective with several teachers: {@code ceWeight * CE(y, softmax(z_s)) + kdWeight * soft}, where
 * {@code soft} combines the divergences to {@code M} teachers as {@link TeacherCombination} says (each mode's
 * formula and its {@code T^2} scaling are there). With one teacher every mode equals {@link Distillation}.
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
  private final TeacherCombination combination;
  private final int teachers;
  private final TeacherDraw draw;

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
    this.combination = Objects.requireNonNull(combination, "combination");
    if (teachers < 1) {
      throw new IllegalArgumentException("a distillation needs at least one teacher, got " + teachers);
    }
    if (combination.mode() == TeacherCombination.Mode.WEIGHTED && combination.weights().length != teachers) {
      throw new IllegalArgumentException(
          "weighted teachers need one weight per teacher: " + teachers + " teachers, " + combination.weights().length
              + " weights");
    }
    if (combination.mode() == TeacherCombination.Mode.MEAN_PROBS && !(divergence instanceof Tempered)) {
      throw new IllegalArgumentException(
          "mean-probs averages the teachers' probabilities at the divergence's temperature; " + divergence.spec()
              + " has no single temperature: use mean-loss, weighted, ca-mkd or random");
    }
    this.ceWeight = ceWeight;
    this.kdWeight = kdWeight;
    this.divergence = divergence;
    this.teachers = teachers;
    this.draw = combination.mode() == TeacherCombination.Mode.RANDOM ? new TeacherDraw(seed, teachers) : null;
  }

  /** The combination. */
  public TeacherCombination combination() {
    return combination;
  }

  /** The per-example divergence. */
  public Divergence divergence() {
    return divergence;
  }

  /** The random mode's draw (to inspect which teacher each step used), or {@code null} for the other modes. */
  public TeacherDraw draw() {
    return draw;
  }

  /** {@code 0.1*ce + 0.9*ca-mkd[3 teachers](kl(T=4))}. */
  @Override
  public String describe() {
    return Divergences.number(ceWeight) + "*ce + " + Divergences.number(kdWeight) + "*" + combination.describe() + "["
        + teachers + (teachers == 1 ? " teacher](" : " teachers](") + divergence.spec() + ")";
  }

  @Override
  public boolean needsTeacher() {
    return true;
  }

  /** M: the fed teacher logits are {@code [batch, M * K]}. */
  @Override
  public int teachers() {
    return teachers;
  }

  @Override
  public List<TrainingHook> hooks() {
    return draw == null ? List.of() : List.of(draw);
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    long k = logits.shape().numDimensions() == 2 ? logits.shape().get(1) : -1;
    if (k < 1) {
      throw new IllegalArgumentException("several teachers need student logits of a known width; got shape " + logits.shape());
    }
    Operand<TFloat32> all = tf.stopGradient(teacherLogits);
    Operand<TFloat32> hard = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    Operand<TFloat32> soft =
        switch (combination.mode()) {
          case MEAN_PROBS -> SoftmaxOps.mean(tf, divergence.perExample(tf, logits, ensemble(tf, all, (int) k), context));
          case RANDOM -> {
            Operand<TFloat32> byTeacher = tf.reshape(all, tf.constant(new long[] {-1, teachers, k}));
            Operand<TFloat32> chosen = tf.gather(byTeacher, draw.attach(tf), tf.constant(1));
            yield SoftmaxOps.mean(tf, divergence.perExample(tf, logits, chosen, context));
          }
          default -> {
            List<Operand<TFloat32>> d = new ArrayList<>();
            for (int m = 0; m < teachers; m++) {
              d.add(divergence.perExample(tf, logits, teacher(tf, all, m, (int) k), context));
            }
            // [batch, M] per-teacher divergences times [batch, M] (or [M]) weights, summed over teachers.
            Operand<TFloat32> perTeacher = tf.stack(d, org.tensorflow.op.core.Stack.axis(1L));
            yield SoftmaxOps.mean(tf, SoftmaxOps.rowSum(tf, tf.math.mul(weights(tf, all, (int) k, context), perTeacher)));
          }
        };
    Operand<TFloat32> total =
        tf.math.add(tf.math.mul(tf.constant(ceWeight), hard), tf.math.mul(tf.constant(kdWeight), soft));
    return new LossTerms(total, hard, soft);
  }

  /** Teacher {@code m}'s logits {@code [batch, K]}: columns {@code m K .. (m + 1) K} of the fed block. */
  private static Operand<TFloat32> teacher(Ops tf, Operand<TFloat32> all, int m, int k) {
    return tf.slice(all, tf.constant(new int[] {0, m * k}), tf.constant(new int[] {-1, k}));
  }

  /** {@code T log((1/M) sum_m softmax(z_m / T))}: logits whose softmax at T is the teachers' mean probability. */
  private Operand<TFloat32> ensemble(Ops tf, Operand<TFloat32> all, int k) {
    float t = ((Tempered) divergence).temperature();
    List<Operand<TFloat32>> logP = new ArrayList<>();
    for (int m = 0; m < teachers; m++) {
      logP.add(SoftmaxOps.logSoftmax(tf, teacher(tf, all, m, k), t));
    }
    // [batch, K, M]: a log-sum-exp over the teachers keeps saturated probabilities exact.
    Operand<TFloat32> stacked = tf.stack(logP, org.tensorflow.op.core.Stack.axis(2L));
    Operand<TFloat32> lse = tf.reshape(SoftmaxOps.logSumExp(tf, stacked, 2), tf.constant(new long[] {-1, k}));
    Operand<TFloat32> logMean = tf.math.sub(lse, tf.constant((float) Math.log(teachers)));
    return tf.math.mul(tf.constant(t), logMean);
  }

  /** The weights of the per-teacher divergences: {@code [M]} constants or {@code [batch, M]} (CA-MKD). */
  private Operand<TFloat32> weights(Ops tf, Operand<TFloat32> all, int k, LossContext context) {
    return switch (combination.mode()) {
      case MEAN_LOSS -> {
        float[] w = new float[teachers];
        java.util.Arrays.fill(w, 1f / teachers);
        yield tf.constant(w);
      }
      case WEIGHTED -> tf.constant(combination.weights());
      case CONFIDENCE -> {
        if (teachers == 1) {
          yield tf.constant(new float[] {1f});
        }
        List<Operand<TFloat32>> ce = new ArrayList<>();
        for (int m = 0; m < teachers; m++) {
          ce.add(SoftmaxOps.crossEntropy(tf, teacher(tf, all, m, k), context.oneHot()));
        }
        Operand<TFloat32> perTeacher = tf.stack(ce, org.tensorflow.op.core.Stack.axis(1L));
        Operand<TFloat32> w =
            tf.math.div(
                tf.math.sub(tf.constant(1f), tf.nn.softmax(perTeacher)), tf.constant((float) (teachers - 1)));
        yield tf.stopGradient(w);
      }
      default -> throw new IllegalStateException(combination.mode() + " has no per-teacher weights");
    };
  }
}
