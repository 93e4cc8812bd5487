package dev.tfkd.training;

import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import dev.tfkd.losses.Tempered;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Stack;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The graph side of a {@link TeacherCombination} for one training graph: how the terms of an objective that reads
 * {@code M} teachers become one value. It combines per-example divergences as {@link TeacherCombination} states
 * ({@link #divergence}), and batch-level terms computed once per teacher (feature losses) with one weight per
 * teacher for the batch ({@link #batchWeights}): {@code mean-probs} and {@code mean-loss} {@code 1/M} each, {@code
 * weighted} the fixed weights, {@code ca-mkd} the batch mean of each teacher's per-example weights, {@code random}
 * 1 for the drawn teacher and 0 for the others. A {@link TeacherCombination.Mode#RANDOM} combiner owns the {@link
 * TeacherDraw} the trainer runs as a hook ({@link #hooks()}); every term of the graph reads the same draw. Built
 * once per objective; one training graph.
 */
public final class TeacherCombiner {
  private final TeacherCombination combination;
  private final int teachers;
  private final TeacherDraw draw;
  private Operand<TInt32> choice;

  /**
   * @param combination how the teachers combine
   * @param teachers M, at least 1; a weighted combination has exactly M weights
   * @param seed the run's seed (the random mode's draw)
   * @throws IllegalArgumentException for a weight count other than M or fewer than one teacher
   */
  public TeacherCombiner(TeacherCombination combination, int teachers, long seed) {
    this.combination = Objects.requireNonNull(combination, "combination");
    if (teachers < 1) {
      throw new IllegalArgumentException("a distillation needs at least one teacher, got " + teachers);
    }
    if (combination.mode() == TeacherCombination.Mode.WEIGHTED && combination.weights().length != teachers) {
      throw new IllegalArgumentException(
          "weighted teachers need one weight per teacher: " + teachers + " teachers, " + combination.weights().length
              + " weights");
    }
    this.teachers = teachers;
    this.draw = combination.mode() == TeacherCombination.Mode.RANDOM ? new TeacherDraw(seed, teachers) : null;
  }

  /** Checks that {@code mean-probs} gets a divergence with one constant temperature. */
  void checkDivergence(Divergence divergence) {
    if (combination.mode() == TeacherCombination.Mode.MEAN_PROBS && !(divergence instanceof Tempered)) {
      throw new IllegalArgumentException(
          "mean-probs averages the teachers' probabilities at the divergence's temperature; " + divergence.spec()
              + " has no single temperature: use mean-loss, weighted, ca-mkd or random");
    }
  }

  /**
   * The combination.
   *
   * @return the combination
   */
  public TeacherCombination combination() {
    return combination;
  }

  /**
   * M.
   *
   * @return the number of teachers
   */
  public int teachers() {
    return teachers;
  }

  /**
   * The random mode's draw, or {@code null} for the other modes.
   *
   * @return the draw
   */
  public TeacherDraw draw() {
    return draw;
  }

  /**
   * The hooks the trainer must run: the random mode's draw, else none.
   *
   * @return the hooks
   */
  public List<TrainingHook> hooks() {
    return draw == null ? List.of() : List.of(draw);
  }

  /**
   * The batch mean of {@code divergence} from the student to the M teachers, combined as {@link TeacherCombination}
   * states (the {@code T^2} factor once, inside the divergence).
   *
   * @param tf where to add the ops
   * @param divergence the per-example divergence (for {@code mean-probs} one with a single temperature)
   * @param logits the student's logits {@code [batch, K]} with a known K
   * @param teacherLogits the teachers' logits side by side, {@code [batch, M * K]}, behind a gradient barrier
   * @param context labels and progress
   * @return a scalar
   */
  public Operand<TFloat32> divergence(
      Ops tf, Divergence divergence, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    checkDivergence(divergence);
    int k = width(logits);
    return switch (combination.mode()) {
      case MEAN_PROBS -> SoftmaxOps.mean(tf, divergence.perExample(tf, logits, ensemble(tf, (Tempered) divergence, teacherLogits, k), context));
      case RANDOM -> {
        Operand<TFloat32> byTeacher = tf.reshape(teacherLogits, tf.constant(new long[] {-1, teachers, k}));
        Operand<TFloat32> chosen = tf.gather(byTeacher, choice(tf), tf.constant(1));
        yield SoftmaxOps.mean(tf, divergence.perExample(tf, logits, chosen, context));
      }
      default -> {
        List<Operand<TFloat32>> d = new ArrayList<>();
        for (int m = 0; m < teachers; m++) {
          d.add(divergence.perExample(tf, logits, teacher(tf, teacherLogits, m, k), context));
        }
        // [batch, M] per-teacher divergences times [batch, M] (or [M]) weights, summed over teachers.
        Operand<TFloat32> perTeacher = tf.stack(d, Stack.axis(1L));
        yield SoftmaxOps.mean(tf, SoftmaxOps.rowSum(tf, tf.math.mul(exampleWeights(tf, teacherLogits, k, context), perTeacher)));
      }
    };
  }

  /**
   * The weight of each teacher for this batch, {@code [M]}, without gradient: for a term computed once per teacher
   * as one scalar of the batch (a feature loss), combined as {@code sum_m w_m value_m}. {@code mean-probs} and
   * {@code mean-loss}: {@code 1/M} each; {@code weighted}: the fixed (normalised) weights; {@code ca-mkd}: the batch
   * mean of each teacher's per-example weights; {@code random}: the drawn teacher 1, the others 0.
   *
   * @param tf where to add the ops
   * @param logits the student's logits {@code [batch, K]} (for K)
   * @param teacherLogits the teachers' logits side by side, {@code [batch, M * K]}
   * @param context labels and progress
   * @return {@code [M]} weights summing to 1
   */
  public Operand<TFloat32> batchWeights(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    int k = width(logits);
    return switch (combination.mode()) {
      case MEAN_PROBS, MEAN_LOSS, WEIGHTED -> exampleWeights(tf, teacherLogits, k, context);
      case CONFIDENCE -> teachers == 1
          ? tf.constant(new float[] {1f})
          : tf.math.mean(exampleWeights(tf, teacherLogits, k, context), tf.constant(0));
      case RANDOM -> tf.oneHot(choice(tf), tf.constant(teachers), tf.constant(1f), tf.constant(0f));
    };
  }

  /**
   * {@code sum_m w_m values_m} for per-teacher scalars and {@code [M]} weights ({@link #batchWeights}).
   *
   * @param tf where to add the ops
   * @param values M scalars, one per teacher, in order
   * @param weights {@code [M]}
   * @return a scalar
   */
  public static Operand<TFloat32> weightedSum(Ops tf, List<Operand<TFloat32>> values, Operand<TFloat32> weights) {
    return tf.reduceSum(tf.math.mul(tf.stack(values), weights), tf.constant(0));
  }

  private static int width(Operand<TFloat32> logits) {
    long k = logits.shape().numDimensions() == 2 ? logits.shape().get(1) : -1;
    if (k < 1) {
      throw new IllegalArgumentException("several teachers need student logits of a known width; got shape " + logits.shape());
    }
    return (int) k;
  }

  /** The drawn teacher's index, one placeholder per graph however many terms read it. */
  private Operand<TInt32> choice(Ops tf) {
    if (choice == null) {
      choice = draw.attach(tf);
    }
    return choice;
  }

  /** Teacher {@code m}'s logits {@code [batch, K]}: columns {@code m K .. (m + 1) K} of the fed block. */
  private static Operand<TFloat32> teacher(Ops tf, Operand<TFloat32> all, int m, int k) {
    return tf.slice(all, tf.constant(new int[] {0, m * k}), tf.constant(new int[] {-1, k}));
  }

  /** {@code T log((1/M) sum_m softmax(z_m / T))}: logits whose softmax at T is the teachers' mean probability. */
  private Operand<TFloat32> ensemble(Ops tf, Tempered divergence, Operand<TFloat32> all, int k) {
    float t = divergence.temperature();
    List<Operand<TFloat32>> logP = new ArrayList<>();
    for (int m = 0; m < teachers; m++) {
      logP.add(SoftmaxOps.logSoftmax(tf, teacher(tf, all, m, k), t));
    }
    // [batch, K, M]: a log-sum-exp over the teachers keeps saturated probabilities exact.
    Operand<TFloat32> stacked = tf.stack(logP, Stack.axis(2L));
    Operand<TFloat32> lse = tf.reshape(SoftmaxOps.logSumExp(tf, stacked, 2), tf.constant(new long[] {-1, k}));
    Operand<TFloat32> logMean = tf.math.sub(lse, tf.constant((float) Math.log(teachers)));
    return tf.math.mul(tf.constant(t), logMean);
  }

  /**
   * The weights of the per-teacher values: {@code [M]} constants (mean, fixed; also mean-probs, for batch-level
   * terms) or {@code [batch, M]} (CA-MKD).
   */
  private Operand<TFloat32> exampleWeights(Ops tf, Operand<TFloat32> all, int k, LossContext context) {
    return switch (combination.mode()) {
      case MEAN_LOSS, MEAN_PROBS -> {
        float[] w = new float[teachers];
        Arrays.fill(w, 1f / teachers);
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
        Operand<TFloat32> perTeacher = tf.stack(ce, Stack.axis(1L));
        Operand<TFloat32> w =
            tf.math.div(
                tf.math.sub(tf.constant(1f), tf.nn.softmax(perTeacher)), tf.constant((float) (teachers - 1)));
        yield tf.stopGradient(w);
      }
      case RANDOM -> throw new IllegalStateException(combination.mode() + " has no per-teacher weights");
    };
  }
}
