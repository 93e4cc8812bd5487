package dev.tfkd.bench;

import java.util.SplittableRandom;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * The float32 matrix-multiply rate TensorFlow reaches in a session with given options: the ceiling a dense
 * training step can approach. Multiplies two {@code n x n} matrices held in variables (so graph optimisation
 * cannot fold them away) and assigns the product to a third, timed by {@link Protocol}; one multiply counts
 * {@code 2 n^3} floating-point operations.
 */
public final class MatmulCeiling {
  private MatmulCeiling() {}

  /**
   * The rate reached.
   *
   * @param gflops GFLOP per wall-clock second, the median of the protocol's windows
   * @param cpuGflops GFLOP per second of this process's CPU time (all threads), NaN where unknown: steadier than
   *     {@code gflops} on a machine shared with other work
   */
  public record Rate(double gflops, double cpuGflops) {}

  /** GFLOP/s of {@code n x n} by {@code n x n} products. */
  public static Rate measure(int n, ConfigProto config, Protocol protocol) {
    if (n < 1) {
      throw new IllegalArgumentException("matrix size must be >= 1, got " + n);
    }
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Variable<TFloat32> a = tf.variable(random(tf, n, 1));
      Variable<TFloat32> b = tf.variable(random(tf, n, 2));
      Variable<TFloat32> c = tf.variable(tf.zeros(tf.constant(new long[] {n, n}), TFloat32.class));
      Op product = tf.assign(c, tf.linalg.matMul(tf.identity(a), tf.identity(b)));
      try (Session s = new Session(g, config)) {
        StepTimer timer = new StepTimer(protocol);
        while (!timer.done()) {
          s.run(product);
          timer.stepDone();
        }
        double flop = 2.0 * n * n * n;
        return new Rate(timer.medianRate() * flop / 1e9, flop / 1e6 / timer.medianCpuMsPerStep());
      }
    }
  }

  private static org.tensorflow.Operand<TFloat32> random(Ops tf, int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] v = new float[n * n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rng.nextDouble() - 0.5);
    }
    return tf.constant(Shape.of(n, n), DataBuffers.of(v, true, false));
  }
}
