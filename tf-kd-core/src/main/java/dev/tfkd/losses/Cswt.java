package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * Cosine-similarity weighted temperature (CSWT; Ham et al. 2023, "Cosine Similarity Knowledge Distillation for
 * Individual Class Information Transfer"), a per-example temperature policy wrapped around any {@link Tempered}
 * divergence. For each example i of the batch,
 *
 * <pre>
 *   c_i = cos(softmax(z_s,i), softmax(z_t,i))
 *   r_i = #{j : c_j < c_i - eps} + (#{j != i : |c_j - c_i| <= eps}) / 2
 *   T_i = T_max - (T_max - T_min) r_i / max(1, B - 1)
 * </pre>
 *
 * so the example on which student and teacher agree most gets {@code T_min} and the one on which they disagree most
 * gets {@code T_max} (the paper: lower temperature at high similarity): {@code r_i} is the ascending rank from 0,
 * and cosines within {@code eps =} {@value #TIE_TOLERANCE} of each other are ties that share the mean rank, so rows
 * that agree equally (e.g. every student row equal to its teacher row) get one temperature, the midpoint, whatever
 * rounding did to their cosines. The cosines are computed in float64. A batch of one gets {@code T_max}. The
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
   * Cosines closer than this are ranked as ties. Far above the float64 rounding of a cosine of probability rows
   * (about 1e-16 times K) and far below any difference that should order two examples.
   */
  public static final double TIE_TOLERANCE = 1e-9;

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
    // float64: TensorFlow's vectorised float32 reductions and square root round differently from row to row, so
    // equal rows got cosines a few ulps apart and were ranked as if they differed.
    Operand<TFloat64> q = tf.dtypes.cast(tf.nn.softmax(tf.stopGradient(studentLogits)), TFloat64.class);
    Operand<TFloat64> p = tf.dtypes.cast(tf.nn.softmax(tf.stopGradient(teacherLogits)), TFloat64.class);
    Operand<TFloat64> dot = rowSum(tf, tf.math.mul(q, p));
    Operand<TFloat64> norms = tf.math.sqrt(tf.math.mul(rowSum(tf, tf.math.square(q)), rowSum(tf, tf.math.square(p))));
    Operand<TFloat64> cos = tf.math.div(dot, norms);
    // Pairwise comparisons [B, B]: entry (i, j) compares c_j with c_i.
    Operand<TFloat64> mine = tf.expandDims(cos, tf.constant(1));
    Operand<TFloat64> others = tf.expandDims(cos, tf.constant(0));
    Operand<TFloat64> eps = tf.constant(TIE_TOLERANCE);
    Operand<TFloat32> below =
        SoftmaxOps.rowSum(tf, tf.dtypes.cast(tf.math.less(others, tf.math.sub(mine, eps)), TFloat32.class));
    Operand<TFloat32> ties =
        SoftmaxOps.rowSum(
            tf, tf.dtypes.cast(tf.math.lessEqual(tf.math.abs(tf.math.sub(others, mine)), eps), TFloat32.class));
    // ties counts the example itself once; each other tie adds half a rank.
    Operand<TFloat32> rank = tf.math.add(below, tf.math.mul(tf.constant(0.5f), tf.math.sub(ties, tf.constant(1f))));
    Operand<TFloat32> span = tf.math.maximum(tf.constant(1f), tf.math.sub(SoftmaxOps.batchSize(tf, studentLogits), tf.constant(1f)));
    Operand<TFloat32> t =
        tf.math.sub(
            tf.constant(maxTemperature), tf.math.mul(tf.constant(maxTemperature - minTemperature), tf.math.div(rank, span)));
    return tf.stopGradient(t);
  }

  private static Operand<TFloat64> rowSum(Ops tf, Operand<TFloat64> x) {
    return tf.reduceSum(x, tf.constant(1));
  }
}
