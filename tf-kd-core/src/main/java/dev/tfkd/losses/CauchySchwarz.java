package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Cauchy-Schwarz divergence {@code -log sum_k p_k q_k + 0.5 log sum_k p_k^2 + 0.5 log sum_k q_k^2},
 * {@code p = softmax(z_t / T)}, {@code q = softmax(z_s / T)} (Principe et al. 2000; for KD e.g. Yin et al. 2025,
 * "Cauchy-Schwarz Divergence for Knowledge Distillation"). Symmetric, scale-invariant, zero exactly when {@code p
 * = q}, never negative (Cauchy-Schwarz inequality). Each sum is a log-sum-exp of log-probabilities.
 *
 * @param temperature T, in [0.01, 100] (default 1)
 */
public record CauchySchwarz(float temperature) implements Tempered {
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public CauchySchwarz {
    TEMPERATURE.check("cauchy-schwarz", temperature);
  }

  @Override
  public String name() {
    return "cauchy-schwarz";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> logP = t.logSoftmax(tf, teacherLogits);
    Operand<TFloat32> logQ = t.logSoftmax(tf, studentLogits);
    Operand<TFloat32> cross = lse(tf, tf.math.add(logP, logQ));
    Operand<TFloat32> selfP = lse(tf, tf.math.add(logP, logP));
    Operand<TFloat32> selfQ = lse(tf, tf.math.add(logQ, logQ));
    return tf.math.add(tf.math.neg(cross), tf.math.mul(tf.constant(0.5f), tf.math.add(selfP, selfQ)));
  }

  private static Operand<TFloat32> lse(Ops tf, Operand<TFloat32> x) {
    return tf.reshape(SoftmaxOps.logSumExp(tf, x, -1), tf.constant(new long[] {-1}));
  }
}
