package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Skew KL and skew reverse KL (DistiLLM, Ko et al. 2024): {@code KL(p || a p + (1 - a) q)} and, with
 * {@code reverse}, {@code KL(q || a q + (1 - a) p)}, {@code p = softmax(z_t / T)}, {@code q = softmax(z_s / T)}.
 * Mixing a little of the first distribution into the second keeps the divergence bounded (by {@code -log a}) and
 * its gradient stable when the second distribution puts almost no mass where the first does. {@code a = 0} gives
 * plain (reverse) KL. Zero when {@code p = q}; never negative. The mixture's log is formed with log-add-exp.
 *
 * @param skew a, in [0, 1) (default 0.1)
 * @param temperature T, in [0.01, 100] (default 1)
 * @param reverse false: {@code skew-kl}; true: {@code skew-reverse-kl}
 */
public record SkewKl(float skew, float temperature, boolean reverse) implements Tempered {
  /** Default skew. */
  public static final float DEFAULT_SKEW = 0.1f;
  /** The skew a and its bounds. */
  public static final Parameter SKEW = new Parameter("a", DEFAULT_SKEW, 0, true, 1, false, false);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public SkewKl {
    SKEW.check(reverse ? "skew-reverse-kl" : "skew-kl", skew);
    TEMPERATURE.check(reverse ? "skew-reverse-kl" : "skew-kl", temperature);
  }

  @Override
  public String name() {
    return reverse ? "skew-reverse-kl" : "skew-kl";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "a", skew, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> logP = t.logSoftmax(tf, teacherLogits);
    Operand<TFloat32> logQ = t.logSoftmax(tf, studentLogits);
    Operand<TFloat32> first = reverse ? logQ : logP;
    Operand<TFloat32> second = reverse ? logP : logQ;
    if (skew == 0f) {
      return SoftmaxOps.kl(tf, first, second);
    }
    Operand<TFloat32> logMix =
        SoftmaxOps.logAddExp(
            tf,
            tf.math.add(first, tf.constant((float) Math.log(skew))),
            tf.math.add(second, tf.constant((float) Math.log1p(-skew))));
    return SoftmaxOps.kl(tf, first, logMix);
  }
}
