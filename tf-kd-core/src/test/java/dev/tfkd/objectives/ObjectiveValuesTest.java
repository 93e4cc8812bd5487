package dev.tfkd.objectives;

import static dev.tfkd.testing.Assertions.assertAllClose;

import dev.tfkd.graph.Tensors;
import dev.tfkd.losses.LossContext;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.Assertions;
import dev.tfkd.training.Objective;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** Loss values of the teacher objectives against float64 references. */
class ObjectiveValuesTest {
  private static final int K = 3;
  private static final float[] Z = {2f, -1f, 0.5f, 0.1f, 0.3f, -2f, -1f, 4f, 1f, 0f, 0f, 0f};
  private static final int[] Y = {0, 1, 1, 2};
  private static final double[] Q = {0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8};

  /** {total, hard, soft} of {@code objective} on Z, Y (feeding log Q to an MCMI centroid placeholder). */
  private static float[] run(Objective objective) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> z = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, K)));
      Placeholder<TInt32> y = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> oneHot = tf.oneHot(y, tf.constant(K), tf.constant(1f), tf.constant(0f));
      Objective.LossTerms t = objective.build(tf, z, null, new LossContext(y, oneHot, tf.constant(0f)));
      float[] qf = new float[K * K];
      for (int i = 0; i < qf.length; i++) {
        qf[i] = (float) Math.log(Q[i]);
      }
      try (Session s = new Session(g);
          TFloat32 zt = Tensors.floats(Shape.of(4, K), Z, 0, Z.length);
          TInt32 yt = Tensors.ints(Shape.of(4), Y, 0, 4);
          TFloat32 qt = Tensors.floats(Shape.of(K, K), qf, 0, qf.length)) {
        Session.Runner r = s.runner().feed(z, zt).feed(y, yt);
        if (g.operation("mcmi_log_centroids") != null) {
          r.feed("mcmi_log_centroids", qt);
        }
        // Identities, since an objective may return one operand as two parts.
        r.fetch(tf.identity(t.total())).fetch(tf.identity(t.hard())).fetch(tf.identity(t.soft()));
        try (Result out = r.run()) {
          return new float[] {
            ((TFloat32) out.get(0)).getFloat(), ((TFloat32) out.get(1)).getFloat(), ((TFloat32) out.get(2)).getFloat()
          };
        }
      }
    }
  }

  private static double ce(double eps) {
    double s = 0;
    double[] lp = new double[K];
    for (int i = 0; i < 4; i++) {
      Metrics.logSoftmax(Z, i * K, K, lp);
      for (int c = 0; c < K; c++) {
        double target = (1 - eps) * (c == Y[i] ? 1 : 0) + eps / K;
        s -= target * lp[c];
      }
    }
    return s / 4;
  }

  @Test
  void mcmiIsCeMinusLambdaTimesMeanKlToTheFedCentroids() {
    float[] v = run(new Mcmi(0.2f, new CentroidFeed(CentroidPolicy.ONCE, 0.9f, K)));
    double kl = EmpiricalCmi.of(Z, Y, Q, K, 1);
    assertAllClose(v[1], ce(0), 0, 1e-5);
    assertAllClose(v[2], -0.2 * kl, 0, 1e-5);
    assertAllClose(v[0], ce(0) - 0.2 * kl, 0, 1e-5);
  }

  @Test
  void cmimAddsTheBatchCmiAtEachTemperature() {
    float[] v = run(new Cmim(0.5f, new float[] {1f, 4f}));
    double expected = 0.5 * (EmpiricalCmi.of(Z, Y, K, 1) + EmpiricalCmi.of(Z, Y, K, 4));
    assertAllClose(v[2], expected, 0, 1e-5);
    assertAllClose(v[0], ce(0) + expected, 0, 1e-5);
  }

  @Test
  void labelSmoothingAndMse() {
    assertAllClose(run(new LabelSmoothing(0.1f))[0], ce(0.1), 0, 1e-5);
    double mse = 0;
    double[] lp = new double[K];
    for (int i = 0; i < 4; i++) {
      Metrics.logSoftmax(Z, i * K, K, lp);
      for (int c = 0; c < K; c++) {
        double d = Math.exp(lp[c]) - (c == Y[i] ? 1 : 0);
        mse += d * d;
      }
    }
    assertAllClose(run(new MseToOneHot())[0], mse / 4, 0, 1e-5);
  }
}
