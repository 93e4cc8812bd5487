package dev.tfkd.features;

import dev.tfkd.graph.Init;
import dev.tfkd.graph.Variables;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * The layers adapters are made of (convolutions, batch normalisation in training mode, dense layers), creating
 * their variables as the student's trainable variables. Adapters exist only in the training graph, so their batch
 * normalisation always uses batch statistics and keeps no moving averages. PyTorch's conventions, as the
 * reference implementations use them: He-normal kernels, a bias on convolutions, BN epsilon 1e-5.
 */
final class Adapters {
  private Adapters() {}

  /** A k x k convolution (padding {@code (k-1)/2}, stride 1) with bias to {@code out} channels. */
  static Operand<TFloat32> conv(Ops tf, Variables vars, String name, Operand<TFloat32> x, int k, int out, int stride) {
    int in = (int) x.shape().get(3);
    Operand<TFloat32> y = convNoBias(tf, vars, name, x, k, out, stride);
    Operand<TFloat32> b = vars.weight(tf, name + "_bias", Shape.of(out), Init.ZEROS, k * k * in, k * k * out);
    return tf.nn.biasAdd(y, b);
  }

  /**
   * A k x k convolution (padding {@code (k-1)/2}) without bias, as the references write the convolutions that a
   * batch normalisation follows or that must map zero to zero ({@code bias=False}).
   */
  static Operand<TFloat32> convNoBias(
      Ops tf, Variables vars, String name, Operand<TFloat32> x, int k, int out, int stride) {
    int in = (int) x.shape().get(3);
    Operand<TFloat32> w = vars.weight(tf, name + "_kernel", Shape.of(k, k, in, out), Init.HE_NORMAL, k * k * in, k * k * out);
    Operand<TFloat32> padded = x;
    int p = (k - 1) / 2;
    if (p > 0) {
      padded = tf.pad(x, tf.constant(new int[][] {{0, 0}, {p, p}, {p, p}, {0, 0}}), tf.constant(0f));
    }
    return tf.nn.conv2d(padded, w, List.of(1L, (long) stride, (long) stride, 1L), "VALID");
  }

  /**
   * A 1x1 convolution without bias to {@code out} channels, its kernel He-normal over the fan-out ({@code std =
   * sqrt(2 / out)}), as OFD's reference initialises its connectors.
   */
  static Operand<TFloat32> pointwise(Ops tf, Variables vars, String name, Operand<TFloat32> x, int out) {
    int in = (int) x.shape().get(3);
    // Init.HE_NORMAL divides by its fan-in argument: give it the fan-out, as the reference does.
    Operand<TFloat32> w = vars.weight(tf, name + "_kernel", Shape.of(1, 1, in, out), Init.HE_NORMAL, out, in);
    return tf.nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "VALID");
  }

  /** Batch normalisation with batch statistics and a trainable scale and shift. */
  static Operand<TFloat32> batchNorm(Ops tf, Variables vars, String name, Operand<TFloat32> x) {
    int c = (int) x.shape().get(3);
    Operand<TFloat32> gamma = vars.weight(tf, name + "_gamma", Shape.of(c), Init.ONES, 1, 1);
    Operand<TFloat32> beta = vars.weight(tf, name + "_beta", Shape.of(c), Init.ZEROS, 1, 1);
    return tf.nn.fusedBatchNorm(
            x, gamma, beta, tf.zeros(tf.constant(new int[] {c}), TFloat32.class),
            tf.fill(tf.constant(new int[] {c}), tf.constant(1f)),
            FusedBatchNorm.epsilon(1e-5f), FusedBatchNorm.isTraining(true), FusedBatchNorm.dataFormat("NHWC"))
        .y();
  }
}
