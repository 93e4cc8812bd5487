package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Hinton, Vinyals and Dean 2015, "Distilling the Knowledge in a Neural Network": {@code T^2 KL(p || q)} with
 * {@code p = softmax(z_t / T)} and {@code q = softmax(z_s / T)}, per example, summed over classes.
 *
 * <p>The {@code T^2} factor keeps the soft-target gradient's magnitude comparable across temperatures. Computed as
 * {@code T^2 sum_k p_k (log p_k - log q_k)} with log-softmax on both sides, so it is finite for any finite logits.
 * Zero exactly when the student's tempered distribution equals the teacher's; never negative.
 *
 * @param temperature T, in [0.01, 100] (default 4)
 */
public record Kl(float temperature) implements Tempered {
  /** Default temperature. */
  public static final float DEFAULT_TEMPERATURE = 4f;
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", DEFAULT_TEMPERATURE);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public Kl {
    TEMPERATURE.check("kl", temperature);
  }

  @Override
  public String name() {
    return "kl";
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
    return t.timesSquared(tf, SoftmaxOps.kl(tf, logP, logQ));
  }
}
