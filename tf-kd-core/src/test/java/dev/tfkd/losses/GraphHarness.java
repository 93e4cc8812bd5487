package dev.tfkd.losses;

import dev.tfkd.graph.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One divergence in its own float32 graph, fed any batch size and class count: per-example values and the gradient
 * of {@code sum_i w_i d_i} with respect to the student's logits (TensorFlow's symbolic gradients).
 */
final class GraphHarness implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> student;
  private final Placeholder<TFloat32> teacher;
  private final Placeholder<TInt32> labels;
  private final Placeholder<TFloat32> oneHot;
  private final Placeholder<TFloat32> epoch;
  private final Placeholder<TFloat32> weights;
  private final Operand<TFloat32> values;
  private final Output<TFloat32> gradient;

  /** A harness whose session skips Grappler's graph rewrites (fast to start; see the constructor's comment). */
  GraphHarness(Divergence d) {
    this(d, false);
  }

  /**
   * @param production true: the session runs with TensorFlow's default graph optimisations, as training does
   */
  GraphHarness(Divergence d, boolean production) {
    Ops tf = Ops.create(graph);
    student = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
    teacher = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
    labels = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    oneHot = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
    epoch = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    weights = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
    values = d.perExample(tf, student, tf.stopGradient(teacher), new LossContext(labels, oneHot, epoch));
    Operand<TFloat32> loss = tf.reduceSum(tf.math.mul(values, weights), tf.constant(0));
    Gradients g = tf.gradients(loss, java.util.List.of(student));
    gradient = g.dy(0);
    // Grappler's one-off rewrite of an unrolled graph (Sinkhorn: 20 iterations and their gradients) costs seconds
    // per graph; the rewrites preserve values, and the property tests build dozens of graphs, so it is off there.
    // The reference comparisons run with the default (production) options.
    session =
        production
            ? new Session(graph)
            : new Session(
            graph,
            ConfigProto.newBuilder()
                .setGraphOptions(
                    GraphOptions.newBuilder()
                        .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true)))
                .build());
  }

  /** Per-example values and the gradient {@code [B][K]}, as doubles. */
  record Out(double[] values, double[][] gradient) {}

  Out run(double[][] s, double[][] t, int[] y, double ep, double[] w) {
    int b = s.length;
    int k = s[0].length;
    float[] hot = new float[b * k];
    for (int i = 0; i < b; i++) {
      hot[i * k + y[i]] = 1f;
    }
    float[] wf = new float[b];
    for (int i = 0; i < b; i++) {
      wf[i] = (float) w[i];
    }
    try (TFloat32 st = Tensors.floats(Shape.of(b, k), flat(s), 0, b * k);
        TFloat32 tt = Tensors.floats(Shape.of(b, k), flat(t), 0, b * k);
        TInt32 yt = Tensors.ints(Shape.of(b), y, 0, b);
        TFloat32 ht = Tensors.floats(Shape.of(b, k), hot, 0, b * k);
        TFloat32 et = Tensors.scalar((float) ep);
        TFloat32 wt = Tensors.floats(Shape.of(b), wf, 0, b);
        Result r =
            session.runner().feed(student, st).feed(teacher, tt).feed(labels, yt).feed(oneHot, ht).feed(epoch, et)
                .feed(weights, wt).fetch(values).fetch(gradient).run()) {
      TFloat32 v = (TFloat32) r.get(0);
      TFloat32 g = (TFloat32) r.get(1);
      double[] vals = new double[b];
      for (int i = 0; i < b; i++) {
        vals[i] = v.getFloat(i);
      }
      double[][] grad = new double[b][k];
      for (int i = 0; i < b; i++) {
        for (int c = 0; c < k; c++) {
          grad[i][c] = g.getFloat(i, c);
        }
      }
      return new Out(vals, grad);
    }
  }

  /** Float32-rounded copy, so the reference sees exactly the numbers the graph sees. */
  static double[][] roundToFloat(double[][] x) {
    double[][] out = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      out[i] = new double[x[i].length];
      for (int c = 0; c < x[i].length; c++) {
        out[i][c] = (float) x[i][c];
      }
    }
    return out;
  }

  private static float[] flat(double[][] x) {
    int k = x[0].length;
    float[] f = new float[x.length * k];
    for (int i = 0; i < x.length; i++) {
      for (int c = 0; c < k; c++) {
        f[i * k + c] = (float) x[i][c];
      }
    }
    return f;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
