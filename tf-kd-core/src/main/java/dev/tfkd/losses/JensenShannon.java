package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Generalised Jensen-Shannon divergence (Lin 1991; as a distillation loss in DistiLLM, Ko et al. 2024):
 * {@code beta KL(p || m) + (1 - beta) KL(q || m)} with the mixture {@code m = beta p + (1 - beta) q},
 * {@code p = softmax(z_t / T)}, {@code q = softmax(z_s / T)}. Symmetric in p and q at {@code beta = 0.5}; bounded
 * by the entropy of {@code (beta, 1 - beta)} ({@code ln 2} at 0.5). {@code log m} is formed with log-add-exp, never
 * as {@code log} of a sum of probabilities. No {@code T^2} factor.
 *
 * @param beta the teacher's mixture weight, in (0, 1) (default 0.5)
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record JensenShannon(float beta, float temperature) implements Tempered {
  /** Default mixing weight. */
  public static final float DEFAULT_BETA = 0.5f;
  /** beta and its bounds. */
  public static final Parameter BETA = new Parameter("beta", DEFAULT_BETA, 0, false, 1, false, false);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public JensenShannon {
    BETA.check("js", beta);
    TEMPERATURE.check("js", temperature);
  }

  @Override
  public String name() {
    return "js";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "beta", beta, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> logP = t.logSoftmax(tf, teacherLogits);
    Operand<TFloat32> logQ = t.logSoftmax(tf, studentLogits);
    Operand<TFloat32> logM =
        SoftmaxOps.logAddExp(
            tf,
            tf.math.add(logP, tf.constant((float) Math.log(beta))),
            tf.math.add(logQ, tf.constant((float) Math.log1p(-beta))));
    return tf.math.add(
        tf.math.mul(tf.constant(beta), SoftmaxOps.kl(tf, logP, logM)),
        tf.math.mul(tf.constant(1f - beta), SoftmaxOps.kl(tf, logQ, logM)));
  }
}
