package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Weighted symmetric KL {@code (1 - lambda) KL(p || q) + lambda KL(q || p)}, {@code p = softmax(z_t / T)},
 * {@code q = softmax(z_s / T)} (Jeffreys 1946 at {@code lambda = 0.5}; as a KD loss e.g. Wu et al. 2024, "Rethinking
 * KL Divergence in KD for LLMs"). Symmetric in p and q at {@code lambda = 0.5}; zero when {@code p = q}. No
 * {@code T^2} factor.
 *
 * @param lambda weight of the reverse direction, in [0, 1] (default 0.5)
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record SymmetricKl(float lambda, float temperature) implements Tempered {
  /** Default weight of the reverse term. */
  public static final float DEFAULT_LAMBDA = 0.5f;
  /** lambda and its bounds. */
  public static final Parameter LAMBDA = Parameter.closed("lambda", DEFAULT_LAMBDA, 0, 1);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public SymmetricKl {
    LAMBDA.check("symmetric-kl", lambda);
    TEMPERATURE.check("symmetric-kl", temperature);
  }

  @Override
  public String name() {
    return "symmetric-kl";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "lambda", lambda, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> logP = t.logSoftmax(tf, teacherLogits);
    Operand<TFloat32> logQ = t.logSoftmax(tf, studentLogits);
    return tf.math.add(
        tf.math.mul(tf.constant(1f - lambda), SoftmaxOps.kl(tf, logP, logQ)),
        tf.math.mul(tf.constant(lambda), SoftmaxOps.kl(tf, logQ, logP)));
  }
}
