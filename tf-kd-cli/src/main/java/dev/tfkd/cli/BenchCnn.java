package dev.tfkd.cli;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Variables;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The benchmark CNN of the peer harnesses, used when the model zoo has no {@code cnn}: 28x28x1, conv 3x3x32
 * 'same' ReLU, conv 3x3x64 'same' ReLU, max-pool 2, dense 10.
 */
record BenchCnn(int numClasses) implements Architecture {
  @Override
  public String name() {
    return "bench-cnn";
  }

  @Override
  public long[] inputShape() {
    return new long[] {28, 28, 1};
  }

  @Override
  public Forward build(Ops tf, Operand<TFloat32> x, Variables vars, Mode mode) {
    Operand<TFloat32> h = conv(tf, vars, "conv1", x, 1, 32);
    h = conv(tf, vars, "conv2", h, 32, 64);
    h = tf.nn.maxPool(h, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
    int flat = 14 * 14 * 64;
    h = tf.reshape(h, tf.constant(new long[] {-1, flat}));
    Operand<TFloat32> w = vars.weight(tf, "dense_kernel", Shape.of(flat, numClasses), Init.GLOROT_UNIFORM, flat, numClasses);
    Operand<TFloat32> b = vars.weight(tf, "dense_bias", Shape.of(numClasses), Init.ZEROS, flat, numClasses);
    return Forward.of(tf.nn.biasAdd(tf.linalg.matMul(h, w), b));
  }

  private static Operand<TFloat32> conv(Ops tf, Variables vars, String name, Operand<TFloat32> x, int in, int out) {
    Operand<TFloat32> k = vars.weight(tf, name + "_kernel", Shape.of(3, 3, in, out), Init.HE_NORMAL, 9 * in, 9 * out);
    Operand<TFloat32> b = vars.weight(tf, name + "_bias", Shape.of(out), Init.ZEROS, 9 * in, 9 * out);
    return tf.nn.relu(tf.nn.biasAdd(tf.nn.conv2d(x, k, List.of(1L, 1L, 1L, 1L), "SAME"), b));
  }
}
