package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Cosine-similarity weighted temperature (CSWT; Ham et al. 2023, "Cosine Similarity Knowledge Distillation for
 * Individual Class Information Transfer"), a per-example temperature policy wrapped around any {@link Tempered}
 * divergence. For each example i of the batch,
 *
 * <pre>
 *   c_i = cos(softmax(z_s,i), softmax(z_t,i))
 *   r_i = rank of c_i in the batch, ascending, from 0 (ties share the mean rank)
 *   T_i = T_max - (T_max - T_min) r_i / max(1, B - 1)
 * </pre>
 *
 * so the example on which student and teacher agree most gets {@code T_min} and the one on which they disagree most
 * gets {@code T_max} (the paper: lower temperature at high similarity). A batch of one gets {@code T_max}. The
 * temperatures carry no gradient. The inner divergence then runs with {@code T_i} in place of its own constant T,
 * including in its {@code T^2} factor if it has one.
 *
 * @param inner the divergence whose temperature is replaced
 * @param minTemperature T_min, in [0.01, 100] (default 2)
 * @param maxTemperature T_max, in [0.01, 100] and >= T_min (default 6)
 */
public record Cswt(Tempered inner, float minTemperature, float maxTemperature) implements Divergence {
  /** Default minimum temperature. */
  public static final float DEFAULT_MIN = 2f;
  /** Default maximum temperature. */
  public static final float DEFAULT_MAX = 6f;
  /** T_min and its bounds. */
  public static final Parameter MIN = Parameter.temperature("Tmin", DEFAULT_MIN);
  /** T_max and its bounds (and T_max >= T_min). */
  public static final Parameter MAX = Parameter.temperature("Tmax", DEFAULT_MAX);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them. The maximum must not be below the minimum.
   */
  public Cswt {
    java.util.Objects.requireNonNull(inner, "inner");
    MIN.check("cswt", minTemperature);
    MAX.check("cswt", maxTemperature);
    if (maxTemperature < minTemperature) {
      throw new IllegalArgumentException("cswt Tmax must be >= Tmin, got " + maxTemperature + " < " + minTemperature);
    }
  }

  @Override
  public String name() {
    return "cswt:" + inner.name();
  }

  @Override
  public String spec() {
    return Divergences.spec("cswt", "Tmin", minTemperature, "Tmax", maxTemperature) + ":" + inner.spec();
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, LossContext context) {
    return inner.perExample(
        tf, studentLogits, teacherLogits, GraphTemperature.perExample(tf, temperatures(tf, studentLogits, teacherLogits)), context);
  }

  /**
   * The per-example temperatures {@code [batch]}, outside any gradient.
   *
   * @param tf where to add the ops
   * @param studentLogits {@code [batch, K]} student logits
   * @param teacherLogits {@code [batch, K]} teacher logits
   * @return {@code [batch]} temperatures in [Tmin, Tmax]
   */
  public Operand<TFloat32> temperatures(Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits) {
    Operand<TFloat32> q = tf.nn.softmax(tf.stopGradient(studentLogits));
    Operand<TFloat32> p = tf.nn.softmax(tf.stopGradient(teacherLogits));
    Operand<TFloat32> dot = SoftmaxOps.rowSum(tf, tf.math.mul(q, p));
    Operand<TFloat32> norms =
        tf.math.sqrt(tf.math.mul(SoftmaxOps.rowSum(tf, tf.math.square(q)), SoftmaxOps.rowSum(tf, tf.math.square(p))));
    Operand<TFloat32> cos = tf.math.div(dot, norms);
    // Pairwise comparisons [B, B]: entry (i, j) compares c_j with c_i.
    Operand<TFloat32> mine = tf.expandDims(cos, tf.constant(1));
    Operand<TFloat32> others = tf.expandDims(cos, tf.constant(0));
    Operand<TFloat32> below = SoftmaxOps.rowSum(tf, tf.dtypes.cast(tf.math.less(others, mine), TFloat32.class));
    Operand<TFloat32> ties = SoftmaxOps.rowSum(tf, tf.dtypes.cast(tf.math.equal(others, mine), TFloat32.class));
    // ties counts the example itself once; each other tie adds half a rank.
    Operand<TFloat32> rank = tf.math.add(below, tf.math.mul(tf.constant(0.5f), tf.math.sub(ties, tf.constant(1f))));
    Operand<TFloat32> span = tf.math.maximum(tf.constant(1f), tf.math.sub(SoftmaxOps.batchSize(tf, studentLogits), tf.constant(1f)));
    Operand<TFloat32> t =
        tf.math.sub(
            tf.constant(maxTemperature), tf.math.mul(tf.constant(maxTemperature - minTemperature), tf.math.div(rank, span)));
    return tf.stopGradient(t);
  }
}
