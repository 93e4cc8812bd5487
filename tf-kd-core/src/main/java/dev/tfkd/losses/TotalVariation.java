package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Total variation distance {@code 0.5 sum_k |p_k - q_k|}, {@code p = softmax(z_t / T)}, {@code q = softmax(z_s /
 * T)} (used for distillation by Wen et al. 2023, "f-Divergence Minimization for Sequence-Level KD"). Symmetric,
 * in [0, 1], zero when {@code p = q}; its gradient at {@code p_k = q_k} is taken as 0 (the sign function's).
 *
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record TotalVariation(float temperature) implements Tempered {
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public TotalVariation {
    TEMPERATURE.check("tvd", temperature);
  }

  @Override
  public String name() {
    return "tvd";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> p = tf.math.exp(t.logSoftmax(tf, teacherLogits));
    Operand<TFloat32> q = tf.math.exp(t.logSoftmax(tf, studentLogits));
    return tf.math.mul(tf.constant(0.5f), SoftmaxOps.rowSum(tf, tf.math.abs(tf.math.sub(p, q))));
  }
}
