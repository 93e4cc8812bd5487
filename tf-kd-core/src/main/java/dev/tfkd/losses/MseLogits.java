package dev.tfkd.losses;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Mean squared error between logits, {@code (1/K) sum_k (z_s,k - z_t,k)^2} per example (Ba and Caruana 2014, "Do
 * Deep Nets Really Need to be Deep?"; Kim et al. 2021, "Comparing Kullback-Leibler Divergence and Mean Squared
 * Error Loss in KD"). No temperature: it matches the logits themselves, not distributions. Zero when the logits are
 * equal; symmetric; never negative.
 */
public record MseLogits() implements Divergence {
  @Override
  public String name() {
    return "mse-logits";
  }

  @Override
  public String spec() {
    return name();
  }

  @Override
  public Operand<TFloat32> perExample(
      Ops tf, Operand<TFloat32> studentLogits, Operand<TFloat32> teacherLogits, LossContext context) {
    return tf.math.mean(tf.math.square(tf.math.sub(studentLogits, teacherLogits)), tf.constant(-1));
  }
}
