package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Decoupled knowledge distillation (Zhao et al., CVPR 2022, "Decoupled Knowledge Distillation"): with
 * {@code p = softmax(z_t / T)}, {@code q = softmax(z_s / T)} and y the true class,
 *
 * <pre>
 *   TCKD = T^2 KL([p_y, 1 - p_y] || [q_y, 1 - q_y])          binary target-vs-rest
 *   NCKD = T^2 KL(p^ || q^), p^ = softmax over the classes k != y (the target masked out)
 *   DKD  = w(epoch) (alpha TCKD + beta NCKD),  w(epoch) = min(1, (epoch + 1) / warmup)   (w = 1 when warmup = 0)
 * </pre>
 *
 * {@code epoch} counts from 0 ({@link LossContext#epoch()}), so the weight reaches 1 at the end of the warm-up's
 * last epoch, as in the paper's linear warm-up over the first 20 epochs. {@code log(1 - p_y)} is a log-sum-exp over
 * the non-target logits minus one over all, never {@code log(1 - p_y)} of a probability. Needs K >= 2. Zero when
 * {@code p = q}, never negative.
 *
 * @param alpha TCKD weight, in [0, 1000] (default 1)
 * @param beta NCKD weight, in [0, 1000] (default 8)
 * @param temperature T, in [0.01, 100] (default 4)
 * @param warmupEpochs epochs of linear warm-up, an integer in [0, 100000] (default 20)
 */
public record Dkd(float alpha, float beta, float temperature, int warmupEpochs) implements Tempered {
  /** Default alpha (target-class weight). */
  public static final float DEFAULT_ALPHA = 1f;
  /** Default beta (non-target weight). */
  public static final float DEFAULT_BETA = 8f;
  /** Default temperature. */
  public static final float DEFAULT_TEMPERATURE = 4f;
  /** Default number of warm-up epochs. */
  public static final int DEFAULT_WARMUP = 20;
  /** alpha and its bounds. */
  public static final Parameter ALPHA = Parameter.closed("alpha", DEFAULT_ALPHA, 0, 1000);
  /** beta and its bounds. */
  public static final Parameter BETA = Parameter.closed("beta", DEFAULT_BETA, 0, 1000);
  /** The temperature T and its bounds. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", DEFAULT_TEMPERATURE);
  /** The warm-up in epochs and its bounds. */
  public static final Parameter WARMUP = Parameter.integer("warmup", DEFAULT_WARMUP, 0, 100_000);

  /**
   * Checks each parameter against its {@link Parameter} bounds; throws IllegalArgumentException, naming the divergence,
   * for one outside them.
   */
  public Dkd {
    ALPHA.check("dkd", alpha);
    BETA.check("dkd", beta);
    TEMPERATURE.check("dkd", temperature);
    WARMUP.check("dkd", warmupEpochs);
  }

  @Override
  public String name() {
    return "dkd";
  }

  @Override
  public String spec() {
    return Divergences.spec(name(), "alpha", alpha, "beta", beta, "T", temperature, "warmup", warmupEpochs);
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, GraphTemperature t, LossContext context) {
    Operand<TFloat32> oneHot = context.oneHot();
    Operand<TFloat32> zt = t.scale(tf, teacherLogits);
    Operand<TFloat32> zs = t.scale(tf, studentLogits);
    Operand<TFloat32> tckd = binaryKl(tf, targetLogs(tf, zt, oneHot), targetLogs(tf, zs, oneHot));
    Operand<TFloat32> notTarget = tf.math.sub(tf.constant(1f), oneHot);
    Operand<TFloat32> logPHat = SoftmaxOps.nonTargetLogSoftmax(tf, zt, oneHot);
    Operand<TFloat32> logQHat = SoftmaxOps.nonTargetLogSoftmax(tf, zs, oneHot);
    // The masked target entry has probability 0; zero its term outright so no large-minus-large difference remains.
    Operand<TFloat32> nckd =
        SoftmaxOps.rowSum(tf, tf.math.mul(notTarget, tf.math.mul(tf.math.exp(logPHat), tf.math.sub(logPHat, logQHat))));
    Operand<TFloat32> loss =
        t.timesSquared(
            tf, tf.math.add(tf.math.mul(tf.constant(alpha), tckd), tf.math.mul(tf.constant(beta), nckd)));
    return tf.math.mul(warmup(tf, context.epoch()), loss);
  }

  private Operand<TFloat32> warmup(Ops tf, Operand<TFloat32> epoch) {
    if (warmupEpochs == 0) {
      return tf.constant(1f);
    }
    return tf.math.minimum(
        tf.constant(1f), tf.math.div(tf.math.add(epoch, tf.constant(1f)), tf.constant((float) warmupEpochs)));
  }

  /** {@code [log p_y, log(1 - p_y)]} per row, each {@code [batch]}, from scaled logits. */
  static Operand<TFloat32>[] targetLogs(Ops tf, Operand<TFloat32> scaled, Operand<TFloat32> oneHot) {
    Operand<TFloat32> all = flat(tf, SoftmaxOps.logSumExp(tf, scaled, -1));
    Operand<TFloat32> rest =
        flat(tf, SoftmaxOps.logSumExp(tf, tf.math.sub(scaled, tf.math.mul(oneHot, tf.constant(SoftmaxOps.MASK))), -1));
    Operand<TFloat32> target = SoftmaxOps.rowSum(tf, tf.math.mul(oneHot, scaled));
    @SuppressWarnings("unchecked")
    Operand<TFloat32>[] logs = new Operand[] {tf.math.sub(target, all), tf.math.sub(rest, all)};
    return logs;
  }

  private static Operand<TFloat32> binaryKl(Ops tf, Operand<TFloat32>[] logP, Operand<TFloat32>[] logQ) {
    Operand<TFloat32> result = tf.constant(0f);
    for (int i = 0; i < 2; i++) {
      result = tf.math.add(result, tf.math.mul(tf.math.exp(logP[i]), tf.math.sub(logP[i], logQ[i])));
    }
    return result;
  }

  static Operand<TFloat32> flat(Ops tf, Operand<TFloat32> x) {
    return tf.reshape(x, tf.constant(new long[] {-1}));
  }
}
