package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Normalized knowledge distillation (Yang et al., ICCV 2023, "From Knowledge Distillation to Self-Knowledge
 * Distillation: A Unified Approach with Normalized Loss and Customized Soft Labels"): with y the true class,
 *
 * <pre>
 *   target part:     -t_y log s_y,  t = softmax(z_t), s = softmax(z_s)       (temperature 1)
 *   non-target part: gamma T^2 KL(t^ || s^),  t^, s^ = softmax(z / T) over the classes k != y, renormalised
 *   NKD = target part + non-target part
 * </pre>
 *
 * The non-target distributions are renormalised by masking the target logit out of the softmax. Unlike the other
 * divergences, NKD is not zero when student equals teacher: its target part is then {@code -t_y log t_y}, and it is
 * minimised over {@code s_y} at {@code s_y = 1}. Never negative. Needs K >= 2.
 *
 * @param gamma weight of the non-target part, in [0, 1000] (default 1.5)
 * @param temperature T of the non-target part, in [0.01, 100] (default 1)
 */
public record Nkd(float gamma, float temperature) implements Tempered {
  /** Default gamma. */
  public static final float DEFAULT_GAMMA = 1.5f;
  /** gamma and its bounds. */
  public static final Parameter GAMMA = Parameter.closed("gamma", DEFAULT_GAMMA, 0, 1000);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 1);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public Nkd {
    GAMMA.check("nkd", gamma);
    TEMPERATURE.check("nkd", temperature);
  }

  @Override
  public String name() {
    return "nkd";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "gamma", gamma, "T", temperature);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> oneHot = context.oneHot();
    Operand<TFloat32> logT = tf.nn.logSoftmax(teacherLogits);
    Operand<TFloat32> logS = tf.nn.logSoftmax(studentLogits);
    Operand<TFloat32> tY = tf.math.exp(SoftmaxOps.rowSum(tf, tf.math.mul(oneHot, logT)));
    Operand<TFloat32> logSY = SoftmaxOps.rowSum(tf, tf.math.mul(oneHot, logS));
    Operand<TFloat32> target = tf.math.neg(tf.math.mul(tY, logSY));
    Operand<TFloat32> logTHat = SoftmaxOps.nonTargetLogSoftmax(tf, t.scale(tf, teacherLogits), oneHot);
    Operand<TFloat32> logSHat = SoftmaxOps.nonTargetLogSoftmax(tf, t.scale(tf, studentLogits), oneHot);
    Operand<TFloat32> notTarget = tf.math.sub(tf.constant(1f), oneHot);
    Operand<TFloat32> nonTarget =
        SoftmaxOps.rowSum(tf, tf.math.mul(notTarget, tf.math.mul(tf.math.exp(logTHat), tf.math.sub(logTHat, logSHat))));
    return tf.math.add(target, tf.math.mul(tf.constant(gamma), t.timesSquared(tf, nonTarget)));
  }
}
