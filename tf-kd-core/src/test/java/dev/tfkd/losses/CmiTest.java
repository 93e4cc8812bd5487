package dev.tfkd.losses;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.Tensors;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.testing.Assertions;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

class CmiTest {
  private static final int N = 7;
  private static final int K = 4;

  private static float[] randomLogits(long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] z = new float[N * K];
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) ((2 * r.nextDouble() - 1) * scale);
    }
    return z;
  }

  private static final int[] LABELS = {0, 1, 2, 3, 0, 1, 1};

  /** Per-example values, the centroids of the batch, and d(sum)/d(logits), all from the graph. */
  private record GraphOut(float[] perExample, float[] batchCentroids, float[] grad) {}

  private static GraphOut runGraph(float[] logits, double[] centroids, float temperature) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> z = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, K)));
      Placeholder<TFloat32> q = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(K, K)));
      Placeholder<TInt32> y = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> per = Cmi.perExample(tf, z, q, y, temperature);
      Operand<TFloat32> oneHot = tf.oneHot(y, tf.constant(K), tf.constant(1f), tf.constant(0f));
      Operand<TFloat32> batchQ = Cmi.batchCentroids(tf, z, oneHot, temperature);
      Operand<TFloat32> sum = tf.reduceSum(per, tf.constant(0));
      Gradients grads = tf.gradients(sum, List.of(z, q));
      Output<TFloat32> dz = grads.dy(0);
      Output<?> dq = grads.dy(1);
      assertTrue(dq == null || dq.isClosed(), "no gradient may flow into the centroids");
      float[] qf = new float[K * K];
      for (int i = 0; i < qf.length; i++) {
        qf[i] = (float) centroids[i];
      }
      try (Session s = new Session(g);
          TFloat32 zt = Tensors.floats(Shape.of(N, K), logits, 0, N * K);
          TFloat32 qt = Tensors.floats(Shape.of(K, K), qf, 0, K * K);
          TInt32 yt = Tensors.ints(Shape.of(N), LABELS, 0, N);
          Result r = s.runner().feed(z, zt).feed(q, qt).feed(y, yt).fetch(per).fetch(batchQ).fetch(dz).run()) {
        return new GraphOut(read(r, 0, N), read(r, 1, K * K), read(r, 2, N * K));
      }
    }
  }

  private static float[] read(Result r, int i, int n) {
    float[] out = new float[n];
    ((TFloat32) r.get(i)).asRawTensor().data().asFloats().read(out);
    return out;
  }

  @ParameterizedTest
  @ValueSource(floats = {1f, 4f})
  void matchesFloat64ReferenceAndBatchCentroids(float temperature) {
    float[] z = randomLogits(3, 5);
    double[] q = EmpiricalCmi.centroids(z, LABELS, K, temperature);
    GraphOut out = runGraph(z, q, temperature);
    assertAllClose(
        Assertions.toDouble(out.perExample()),
        EmpiricalCmi.perExample(z, LABELS, q, K, temperature),
        1e-4,
        1e-6);
    assertAllClose(Assertions.toDouble(out.batchCentroids()), q, 1e-5, 1e-7);
  }

  @Test
  void gradientMatchesCentralFiniteDifferencesWithCentroidsHeldFixed() {
    float[] z = randomLogits(9, 3);
    // Fixed centroids that are not the batch's own, so the test would notice a gradient through Q.
    double[] q = EmpiricalCmi.centroids(randomLogits(10, 2), LABELS, K, 1);
    float[] grad = runGraph(z, q, 2f).grad();
    double h = 1e-3;
    double[] fd = new double[N * K];
    for (int i = 0; i < z.length; i++) {
      float[] plus = z.clone();
      float[] minus = z.clone();
      plus[i] += (float) h;
      minus[i] -= (float) h;
      double fp = sum(EmpiricalCmi.perExample(plus, LABELS, q, K, 2));
      double fm = sum(EmpiricalCmi.perExample(minus, LABELS, q, K, 2));
      fd[i] = (fp - fm) / ((double) plus[i] - minus[i]);
    }
    assertAllClose(Assertions.toDouble(grad), fd, Assertions.FINITE_DIFFERENCE);
  }

  @Test
  void zeroWhenEveryPredictionIsItsCentroidAndFiniteForExtremeLogits() {
    float[] same = new float[N * K];
    for (int i = 0; i < N; i++) {
      for (int c = 0; c < K; c++) {
        same[i * K + c] = LABELS[i] == c ? 2f : 0f;
      }
    }
    double[] q = EmpiricalCmi.centroids(same, LABELS, K, 1);
    for (float v : runGraph(same, q, 1f).perExample()) {
      assertAllClose(v, 0f, 0, 1e-6f);
    }
    float[] extreme = randomLogits(4, 1e4);
    GraphOut out = runGraph(extreme, EmpiricalCmi.centroids(randomLogits(5, 1), LABELS, K, 1), 1f);
    for (float v : out.perExample()) {
      assertTrue(Float.isFinite(v) && v >= -1e-5f, "value " + v);
    }
    for (float v : out.grad()) {
      assertTrue(Float.isFinite(v), "gradient " + v);
    }
  }

  @Test
  void empiricalCmiGrowsWhenPredictionsSpreadWithinAClass() {
    float[] tight = new float[N * K];
    float[] spread = new float[N * K];
    for (int i = 0; i < N; i++) {
      tight[i * K + LABELS[i]] = 3f;
      spread[i * K + LABELS[i]] = 3f;
      spread[i * K + (LABELS[i] + 1 + i % 3) % K] = 2.5f;
    }
    assertTrue(EmpiricalCmi.of(spread, LABELS, K, 1) > EmpiricalCmi.of(tight, LABELS, K, 1) + 0.01);
  }

  private static double sum(double[] v) {
    double s = 0;
    for (double d : v) {
      s += d;
    }
    return s;
  }
}
