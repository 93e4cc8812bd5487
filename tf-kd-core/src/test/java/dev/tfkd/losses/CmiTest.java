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

  /**
   * Saturated centroids: class centroids whose off-class entries are far below float32's smallest probability
   * (log Q = -90 to -260). Fed in log space the graph's value matches the exact KL, computed here in float64 from
   * the formula; the probability form (entries floored at float32's smallest value) would be tens of nats low.
   */
  @Test
  void saturatedCentroidsInLogSpaceMatchTheExactKl() {
    double[] logQ = new double[K * K];
    for (int y = 0; y < K; y++) {
      double rest = 0;
      for (int c = 0; c < K; c++) {
        if (c != y) {
          logQ[y * K + c] = -90 - 57.0 * ((c + 2 * y) % K);
          rest += Math.exp(logQ[y * K + c]);
        }
      }
      logQ[y * K + y] = Math.log1p(-rest);
    }
    float[] z = randomLogits(31, 6);
    float temperature = 2f;
    double[] exact = new double[N];
    for (int i = 0; i < N; i++) {
      double[] zi = new double[K];
      for (int c = 0; c < K; c++) {
        zi[c] = z[i * K + c] / (double) temperature;
      }
      double lse = Reference.logSumExp(zi);
      for (int c = 0; c < K; c++) {
        double lp = zi[c] - lse;
        exact[i] += Math.exp(lp) * (lp - logQ[LABELS[i] * K + c]);
      }
    }
    float[] graph = perExampleLog(z, logQ, temperature);
    assertAllClose(Assertions.toDouble(graph), exact, 1e-5, 1e-5);
    assertAllClose(EmpiricalCmi.perExampleLog(z, LABELS, logQ, K, temperature), exact, 1e-12, 1e-12);
    double worst = 0;
    for (double v : exact) {
      worst = Math.max(worst, v);
    }
    assertTrue(worst > 50, "the case must be one the floored probability form gets wrong; largest KL " + worst);
  }

  /** Batch centroids of saturated predictions, formed by log-sum-exp in the graph, against float64. */
  @Test
  void batchLogCentroidsOfSaturatedPredictionsMatchFloat64() {
    float[] z = new float[N * K];
    for (int i = 0; i < N; i++) {
      for (int c = 0; c < K; c++) {
        // Off-label logits 100 to 400 below the label's: probabilities e^-100 to e^-400, zero in float32.
        z[i * K + c] = c == LABELS[i] ? 5f : -100f * (1 + (i + c) % 4);
      }
    }
    double[] expected = EmpiricalCmi.logCentroids(z, LABELS, K, 1);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> zt = tf.constant(Shape.of(N, K), org.tensorflow.ndarray.buffer.DataBuffers.of(z));
      Operand<TInt32> y = tf.constant(LABELS);
      Operand<TFloat32> oneHot = tf.oneHot(y, tf.constant(K), tf.constant(1f), tf.constant(0f));
      Operand<TFloat32> logQ = Cmi.batchLogCentroids(tf, zt, oneHot, 1f);
      Operand<TFloat32> per = Cmi.perExampleLog(tf, zt, logQ, y, 1f);
      try (Session s = new Session(g); Result r = s.runner().fetch(logQ).fetch(per).run()) {
        assertAllClose(Assertions.toDouble(read(r, 0, K * K)), expected, 1e-6, 1e-5);
        for (double v : expected) {
          assertTrue(Double.isFinite(v), "every class of the batch has examples");
        }
        assertAllClose(
            Assertions.toDouble(read(r, 1, N)), EmpiricalCmi.perExampleLog(z, LABELS, expected, K, 1), 1e-5, 1e-5);
      }
    }
    // The float64 centroids of the same data agree with the log-space ones where they do not underflow.
    double[] q = EmpiricalCmi.centroids(z, LABELS, K, 1);
    for (int i = 0; i < q.length; i++) {
      if (q[i] > 1e-300) {
        assertAllClose(Math.log(q[i]), expected[i], 1e-12, 1e-12);
      }
    }
  }

  private static float[] perExampleLog(float[] logits, double[] logQ, float temperature) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      float[] lq = new float[K * K];
      for (int i = 0; i < lq.length; i++) {
        lq[i] = (float) logQ[i];
      }
      Operand<TFloat32> z = tf.constant(Shape.of(N, K), org.tensorflow.ndarray.buffer.DataBuffers.of(logits));
      Operand<TFloat32> q = tf.constant(Shape.of(K, K), org.tensorflow.ndarray.buffer.DataBuffers.of(lq));
      Operand<TFloat32> per = Cmi.perExampleLog(tf, z, q, tf.constant(LABELS), temperature);
      try (Session s = new Session(g); Result r = s.runner().fetch(per).run()) {
        return read(r, 0, N);
      }
    }
  }

  private static double sum(double[] v) {
    double s = 0;
    for (double d : v) {
      s += d;
    }
    return s;
  }
}
