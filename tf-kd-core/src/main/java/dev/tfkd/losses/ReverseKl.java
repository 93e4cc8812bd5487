package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Reverse (mode-seeking) KL, {@code T^2 KL(q || p)} with {@code p = softmax(z_t / T)}, {@code q = softmax(z_s /
 * T)}; used for distillation of generative models (MiniLLM, Gu et al. 2024). Zero when {@code q = p}, never
 * negative; log-space throughout.
 *
 * @param temperature T, in [0.01, 100] (default 4)
 */
public record ReverseKl(float temperature) implements Tempered {
  /** Default temperature. */
  public static final float DEFAULT_TEMPERATURE = 4f;
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", DEFAULT_TEMPERATURE);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public ReverseKl {
    TEMPERATURE.check("reverse-kl", temperature);
  }

  @Override
  public String name() {
    return "reverse-kl";
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
    return t.timesSquared(tf, SoftmaxOps.kl(tf, logQ, logP));
  }
}
