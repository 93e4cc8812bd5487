package dev.tfkd.features;

import dev.tfkd.graph.FeaturePoint;
import dev.tfkd.training.FeatureInputs;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Probabilistic knowledge transfer (Passalis and Tefas, ECCV 2018) on the pooled vectors: each side's rows
 * L2-normalised ({@code x / (||x|| + eps)}), cosine similarities mapped to {@code (c + 1) / 2}, each row divided by
 * its sum to a conditional distribution {@code P} (teacher) and {@code Q} (student), and {@code mean_{ij} P_ij
 * log((P_ij + eps) / (Q_ij + eps))}, eps = 1e-7 (the reference code's mean over B^2 entries). The vectors'
 * widths may differ. Default weight 30000.
 */
public record Pkt() implements FeatureLoss {
  /** The weight RepDistiller's CIFAR-100 table uses. */
  public static final float DEFAULT_WEIGHT = 30000f;

  /** The reference implementation's epsilon. */
  static final float EPS = 1e-7f;

  @Override
  public String name() {
    return "pkt";
  }

  @Override
  public String spec() {
    return "pkt";
  }

  @Override
  public Operand<TFloat32> loss(Ops tf, FeatureInputs in, String adapterPrefix) {
    Operand<TFloat32> q = conditional(tf, Points.student(name(), in, FeaturePoint.POOLED));
    Operand<TFloat32> p = conditional(tf, Points.teacher(name(), in, FeaturePoint.POOLED));
    Operand<TFloat32> eps = tf.constant(EPS);
    Operand<TFloat32> ratio = tf.math.log(tf.math.div(tf.math.add(p, eps), tf.math.add(q, eps)));
    return FeatureOps.meanAll(tf, tf.math.mul(p, ratio));
  }

  private static Operand<TFloat32> conditional(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> unit = tf.math.div(x, tf.math.add(FeatureOps.norm(tf, x), tf.constant(EPS)));
    Operand<TFloat32> sim = tf.math.mul(tf.math.add(FeatureOps.gram(tf, unit, unit), tf.constant(1f)), tf.constant(0.5f));
    Operand<TFloat32> rows = tf.reduceSum(sim, tf.constant(1), org.tensorflow.op.core.ReduceSum.keepDims(true));
    return tf.math.div(sim, rows);
  }
}
