package dev.tfkd.features;

import dev.tfkd.graph.FeaturePoint;
import dev.tfkd.losses.Parameter;
import dev.tfkd.training.FeatureInputs;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * DIST (Huang et al., NeurIPS 2022, "Knowledge Distillation from A Stronger Teacher") on the logits: with {@code
 * Y_s = softmax(z_s / T)}, {@code Y_t = softmax(z_t / T)} ({@code [B, K]}), the inter-class relation {@code 1 -
 * mean_i rho(Y_s[i, :], Y_t[i, :])} and the intra-class relation {@code 1 - mean_k rho(Y_s[:, k], Y_t[:, k])},
 * where {@code rho(a, b) = <a - mean a, b - mean b> / (||a - mean a|| ||b - mean b|| + 1e-8)} is Pearson's
 * correlation; the loss is {@code T^2 (beta inter + gamma intra)}. Defaults beta 1, gamma 1, T 4; term weight 1.
 *
 * @param beta the inter-class weight, in [0, 1000]
 * @param gamma the intra-class weight, in [0, 1000]
 * @param temperature T, in [0.01, 100]
 */
public record Dist(float beta, float gamma, float temperature) implements FeatureLoss {
  /** The inter-class weight. */
  public static final Parameter BETA = Parameter.closed("beta", 1, 0, 1000);
  /** The intra-class weight. */
  public static final Parameter GAMMA = Parameter.closed("gamma", 1, 0, 1000);
  /** The temperature. */
  public static final Parameter TEMPERATURE = Parameter.temperature("T", 4);

  /** Checks every parameter against its bounds. */
  public Dist {
    BETA.check("dist", beta);
    GAMMA.check("dist", gamma);
    TEMPERATURE.check("dist", temperature);
  }

  @Override
  public String name() {
    return "dist";
  }

  @Override
  public String spec() {
    return FeatureLosses.spec(name(), "beta", beta, "gamma", gamma, "T", temperature);
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    Operand<TFloat32> t = tf.constant(temperature);
    Operand<TFloat32> ys = tf.nn.softmax(tf.math.div(Points.student(name(), in, FeaturePoint.LOGITS), t));
    Operand<TFloat32> yt = tf.nn.softmax(tf.math.div(Points.teacher(name(), in, FeaturePoint.LOGITS), t));
    Operand<TFloat32> inter = relation(tf, ys, yt);
    Operand<org.tensorflow.types.TInt32> perm = tf.constant(new int[] {1, 0});
    Operand<TFloat32> intra = relation(tf, tf.linalg.transpose(ys, perm), tf.linalg.transpose(yt, perm));
    Operand<TFloat32> sum = tf.math.add(tf.math.mul(tf.constant(beta), inter), tf.math.mul(tf.constant(gamma), intra));
    return tf.math.mul(tf.constant(temperature * temperature), sum);
  }

  /** {@code 1 - mean_i rho(a_i, b_i)} over the rows. */
  private static Operand<TFloat32> relation(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b) {
    Operand<TFloat32> ac = center(tf, a);
    Operand<TFloat32> bc = center(tf, b);
    Operand<TFloat32> dot = tf.reduceSum(tf.math.mul(ac, bc), tf.constant(1));
    Operand<TFloat32> norms = tf.reshape(tf.math.mul(FeatureOps.norm(tf, ac), FeatureOps.norm(tf, bc)), tf.constant(new int[] {-1}));
    Operand<TFloat32> rho = tf.math.div(dot, tf.math.add(norms, tf.constant(1e-8f)));
    return tf.math.sub(tf.constant(1f), tf.math.mean(rho, tf.constant(0)));
  }

  private static Operand<TFloat32> center(Ops tf, Operand<TFloat32> x) {
    return tf.math.sub(x, tf.math.mean(x, tf.constant(1), org.tensorflow.op.math.Mean.keepDims(true)));
  }
}
