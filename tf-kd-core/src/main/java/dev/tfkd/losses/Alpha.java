package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Amari's alpha-divergence, an f-divergence (Amari 1985; as a KD loss e.g. Wang et al. 2021, "AlphaNet"), with
 * {@code p = softmax(z_t / T)}, {@code q = softmax(z_s / T)}:
 *
 * <pre>
 *   alpha != 0, 1:  (1 / (alpha (1 - alpha))) sum_k [alpha p + (1 - alpha) q - p^alpha q^(1 - alpha)]
 *   alpha = 1:      KL(p || q)
 *   alpha = 0:      KL(q || p)
 * </pre>
 *
 * The limits are exact when alpha is exactly 1 or 0. {@code alpha = 0.5} gives {@code 4 (1 - sum sqrt(p q))}, four
 * times the squared Hellinger distance, and is symmetric in p and q. Zero when {@code p = q}, never negative. For
 * alpha outside [0, 1] a probability is raised to a negative power, so the value overflows to infinity when a
 * probability underflows (extreme logits): that is the divergence, not a numerical accident.
 *
 * @param alpha in [-10, 10] (default 0.5)
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record Alpha(float alpha, float temperature) implements Tempered {
  /** Default alpha. */
  public static final float DEFAULT_ALPHA = 0.5f;
  /** alpha and its bounds: beyond them p^alpha underflows float32 for ordinary probabilities. */
  public static final Parameter ALPHA = Parameter.closed("alpha", DEFAULT_ALPHA, -10, 10);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public Alpha {
    ALPHA.check("alpha", alpha);
    TEMPERATURE.check("alpha", temperature);
  }

  @Override
  public String name() {
    return "alpha";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "alpha", alpha, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> lp = t.logSoftmax(tf, teacherLogits);
    Operand<TFloat32> lq = t.logSoftmax(tf, studentLogits);
    if (alpha == 1f) {
      return SoftmaxOps.kl(tf, lp, lq);
    }
    if (alpha == 0f) {
      return SoftmaxOps.kl(tf, lq, lp);
    }
    Operand<TFloat32> linear =
        tf.math.add(
            tf.math.mul(tf.constant(alpha), tf.math.exp(lp)), tf.math.mul(tf.constant(1f - alpha), tf.math.exp(lq)));
    Operand<TFloat32> geometric =
        tf.math.exp(tf.math.add(tf.math.mul(tf.constant(alpha), lp), tf.math.mul(tf.constant(1f - alpha), lq)));
    return tf.math.mul(
        tf.constant(1f / (alpha * (1f - alpha))), SoftmaxOps.rowSum(tf, tf.math.sub(linear, geometric)));
  }
}
