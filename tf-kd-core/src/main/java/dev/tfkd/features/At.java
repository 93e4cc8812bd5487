package dev.tfkd.features;

import dev.tfkd.training.FeatureInputs;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Attention transfer (Zagoruyko and Komodakis, ICLR 2017, "Paying More Attention to Attention"), as RepDistiller
 * trains it: for every stage {@code j} the student has ({@code stage1..stageN} after their ReLU), the attention map
 * {@code a(F) = normalize(mean_c F_c^2)} (channel mean of squared activations, flattened over H x W, L2-normalised
 * per example) and {@code sum_j mean_{b, hw} (a(S_j) - a(T_j))^2}. Student and teacher stages must have the same
 * spatial size (channels may differ). Default weight (beta) 1000.
 */
public record At() implements FeatureLoss {
  /** The paper's weight on CIFAR (beta / 2 with the per-element mean, as RepDistiller uses it). */
  public static final float DEFAULT_WEIGHT = 1000f;

  @Override
  public String name() {
    return "at";
  }

  @Override
  public String spec() {
    return "at";
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    List<Operand<TFloat32>> parts = new ArrayList<>();
    for (String stage : Points.stages(name(), in)) {
      Operand<TFloat32> s = Points.student(name(), in, stage);
      Operand<TFloat32> t = Points.teacher(name(), in, stage);
      FeatureOps.requireSame(name(), stage, s, t, 1, 3);
      parts.add(FeatureOps.meanAll(tf, tf.math.square(tf.math.sub(attention(tf, s), attention(tf, t)))));
    }
    return tf.math.addN(parts);
  }

  /** {@code [B, H, W, C] -> [B, H*W]}: the channel mean of squares, L2-normalised per example. */
  static Operand<TFloat32> attention(Ops tf, Operand<TFloat32> f) {
    Operand<TFloat32> map = tf.math.mean(tf.math.square(f), tf.constant(3));
    return FeatureOps.l2Normalize(tf, FeatureOps.flatten(tf, map));
  }
}
