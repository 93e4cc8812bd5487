package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Balanced-divergence KD (Amara et al. 2022, "BD-KD: Balancing the Divergences for Online Knowledge
 * Distillation"): per example, forward and reverse KL weighted by which of teacher and student is more uncertain,
 * with {@code p = softmax(z_t / T)}, {@code q = softmax(z_s / T)} and entropies {@code H(p)}, {@code H(q)}:
 *
 * <pre>
 *   H(q) > H(p):  T^2 (KL(p || q) + w KL(q || p))     student too flat: favour mode-seeking reverse KL
 *   otherwise:    T^2 (w KL(p || q) + KL(q || p))     student too sharp: favour mean-seeking forward KL
 * </pre>
 *
 * The choice of weights is a step function of the logits and carries no gradient. Zero when {@code p = q}, never
 * negative.
 *
 * @param weight w, the weight on the favoured side, in [1, 1000] (default 3)
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record Bdkd(float weight, float temperature) implements Tempered {
  /** Default weight. */
  public static final float DEFAULT_WEIGHT = 3f;
  /** w and its bounds. */
  public static final Parameter WEIGHT = Parameter.closed("w", DEFAULT_WEIGHT, 1, 1000);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public Bdkd {
    WEIGHT.check("bdkd", weight);
    TEMPERATURE.check("bdkd", temperature);
  }

  @Override
  public String name() {
    return "bdkd";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "w", weight, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> logP = t.logSoftmax(tf, teacherLogits);
    Operand<TFloat32> logQ = t.logSoftmax(tf, studentLogits);
    Operand<TFloat32> entropyP = tf.math.neg(SoftmaxOps.rowSum(tf, tf.math.mul(tf.math.exp(logP), logP)));
    Operand<TFloat32> entropyQ = tf.math.neg(SoftmaxOps.rowSum(tf, tf.math.mul(tf.math.exp(logQ), logQ)));
    Operand<TFloat32> studentFlatter = tf.stopGradient(tf.dtypes.cast(tf.math.greater(entropyQ, entropyP), TFloat32.class));
    Operand<TFloat32> extra = tf.constant(weight - 1f);
    // Weight 1 + (w - 1) on the favoured side: reverse KL when the student is flatter, forward KL otherwise.
    Operand<TFloat32> reverseWeight = tf.math.add(tf.constant(1f), tf.math.mul(extra, studentFlatter));
    Operand<TFloat32> forwardWeight =
        tf.math.add(tf.constant(1f), tf.math.mul(extra, tf.math.sub(tf.constant(1f), studentFlatter)));
    Operand<TFloat32> loss =
        tf.math.add(
            tf.math.mul(forwardWeight, SoftmaxOps.kl(tf, logP, logQ)),
            tf.math.mul(reverseWeight, SoftmaxOps.kl(tf, logQ, logP)));
    return t.timesSquared(tf, loss);
  }
}
