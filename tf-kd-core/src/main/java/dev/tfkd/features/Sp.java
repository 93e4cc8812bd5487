package dev.tfkd.features;

import dev.tfkd.training.FeatureInputs;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Similarity-preserving distillation (Tung and Mori, ICCV 2019), on the student's last stage and the teacher's
 * stage of the same name: {@code G = normalize_rows(F F^T)} with {@code F} the stage flattened per example
 * ({@code [B, B]}), and {@code sum (G_t - G_s)^2 / B^2}. Only the batch size must agree. Default weight 3000.
 */
public record Sp() implements FeatureLoss {
  /** The weight RepDistiller's CIFAR-100 table uses. */
  public static final float DEFAULT_WEIGHT = 3000f;

  @Override
  public String name() {
    return "sp";
  }

  @Override
  public String spec() {
    return "sp";
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    List<String> stages = Points.stages(name(), in);
    String last = stages.get(stages.size() - 1);
    Operand<TFloat32> gs = similarity(tf, Points.student(name(), in, last));
    Operand<TFloat32> gt = similarity(tf, Points.teacher(name(), in, last));
    Operand<TFloat32> b = FeatureOps.batchFloat(tf, gs);
    return tf.math.div(FeatureOps.sumAll(tf, tf.math.square(tf.math.sub(gt, gs))), tf.math.mul(b, b));
  }

  private static Operand<TFloat32> similarity(Ops tf, Operand<TFloat32> f) {
    Operand<TFloat32> flat = FeatureOps.flatten(tf, f);
    return FeatureOps.l2Normalize(tf, FeatureOps.gram(tf, flat, flat));
  }
}
