package dev.tfkd.features;

import dev.tfkd.graph.BatchNormParameters;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Tensors;
import dev.tfkd.graph.Variables;
import dev.tfkd.training.FeatureInputs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * One feature loss in its own float32 graph over placeholders of fixed shapes (batch included): its value and its
 * gradient with respect to every student point. Adapter weights are constants drawn from a seed, readable by name
 * so a reference can use the same numbers.
 */
final class FeatureHarness implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final Map<String, Placeholder<TFloat32>> student = new LinkedHashMap<>();
  private final Map<String, Placeholder<TFloat32>> teacher = new LinkedHashMap<>();
  private final Placeholder<TFloat32> epoch;
  /** The epoch fed with every {@link #run} (read by methods with a warm-up). */
  float epochValue = 0;
  private final Operand<TFloat32> value;
  private final List<Output<TFloat32>> gradients = new ArrayList<>();
  private final List<String> gradientPoints = new ArrayList<>();
  /** Adapter weights by variable name, as the graph holds them (float32-rounded doubles). */
  final Map<String, double[]> adapterWeights = new LinkedHashMap<>();

  FeatureHarness(FeatureLoss loss, Map<String, long[]> studentShapes, Map<String, long[]> teacherShapes) {
    this(loss, studentShapes, teacherShapes, studentShapes.keySet());
  }

  /** With gradients for the student points {@code read} only (the ones the loss reads). */
  FeatureHarness(
      FeatureLoss loss, Map<String, long[]> studentShapes, Map<String, long[]> teacherShapes, java.util.Set<String> read) {
    this(loss, studentShapes, teacherShapes, read, Map.of());
  }

  /**
   * With the teacher's batch-norm parameters: {@code teacherNorms} maps a teacher point to {@code {gamma, beta}},
   * given to the loss as constants.
   */
  FeatureHarness(
      FeatureLoss loss, Map<String, long[]> studentShapes, Map<String, long[]> teacherShapes, java.util.Set<String> read,
      Map<String, double[][]> teacherNorms) {
    Ops tf = Ops.create(graph);
    Map<String, Operand<TFloat32>> s = new LinkedHashMap<>();
    Map<String, Operand<TFloat32>> t = new LinkedHashMap<>();
    studentShapes.forEach((n, shape) -> {
      Placeholder<TFloat32> p = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
      student.put(n, p);
      s.put(n, p);
    });
    teacherShapes.forEach((n, shape) -> {
      Placeholder<TFloat32> p = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
      teacher.put(n, p);
      t.put(n, tf.stopGradient(p));
    });
    epoch = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Map<String, BatchNormParameters> norms = new LinkedHashMap<>();
    teacherNorms.forEach((n, gb) -> norms.put(n, new BatchNormParameters(constant(tf, gb[0]), constant(tf, gb[1]))));
    value = loss.loss(
        tf,
        new FeatureInputs(s, List.of(new FeatureInputs.TeacherPoints(t, norms)), new ConstantVariables(), epoch, null),
        "a_");
    gradientPoints.addAll(read);
    var g = tf.gradients(value, gradientPoints.stream().map(student::get).toList());
    for (int i = 0; i < gradientPoints.size(); i++) {
      gradients.add(g.dy(i));
    }
    session = new Session(graph);
  }

  /** A float32 vector constant. */
  static Operand<TFloat32> constant(Ops tf, double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) v[i];
    }
    return tf.constant(f);
  }

  /** Value and gradients by student point name. */
  record Out(double value, Map<String, double[]> gradient) {}

  Out run(Map<String, double[]> s, Map<String, double[]> t) {
    List<TFloat32> feeds = new ArrayList<>();
    try {
      Session.Runner r = session.runner();
      for (var e : student.entrySet()) {
        TFloat32 x = tensor(e.getValue().shape(), s.get(e.getKey()));
        feeds.add(x);
        r.feed(e.getValue(), x);
      }
      for (var e : teacher.entrySet()) {
        TFloat32 x = tensor(e.getValue().shape(), t.get(e.getKey()));
        feeds.add(x);
        r.feed(e.getValue(), x);
      }
      TFloat32 e = TFloat32.scalarOf(epochValue);
      feeds.add(e);
      r.feed(epoch, e);
      r.fetch(value);
      gradients.forEach(r::fetch);
      try (Result res = r.run()) {
        double v = ((TFloat32) res.get(0)).getFloat();
        Map<String, double[]> grads = new LinkedHashMap<>();
        int i = 1;
        for (String n : gradientPoints) {
          TFloat32 gt = (TFloat32) res.get(i++);
          float[] f = new float[(int) gt.shape().size()];
          gt.asRawTensor().data().asFloats().read(f);
          double[] d = new double[f.length];
          for (int j = 0; j < f.length; j++) {
            d[j] = f[j];
          }
          grads.put(n, d);
        }
        return new Out(v, grads);
      }
    } finally {
      feeds.forEach(TFloat32::close);
    }
  }

  private static TFloat32 tensor(Shape shape, double[] values) {
    float[] f = new float[values.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) values[i];
    }
    return Tensors.floats(shape, f, 0, f.length);
  }

  /** Uniform values in [-scale, scale], rounded to float32 so a reference sees what the graph sees. */
  static double[] random(SplittableRandom rng, int n, double scale) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (scale * (2 * rng.nextDouble() - 1));
    }
    return x;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

  /** Adapter weights as constants from a fixed seed and the name. */
  private final class ConstantVariables implements Variables {
    @Override
    public Operand<TFloat32> weight(Ops tf, String name, Shape shape, Init init, int fanIn, int fanOut) {
      SplittableRandom rng = new SplittableRandom(name.hashCode());
      double[] d = new double[(int) shape.size()];
      float[] f = new float[d.length];
      for (int i = 0; i < d.length; i++) {
        f[i] = (float) (init == Init.ONES ? 1 + 0.2 * (rng.nextDouble() - 0.5) : 0.4 * (rng.nextDouble() - 0.5));
        d[i] = f[i];
      }
      adapterWeights.put(name, d);
      return tf.constant(shape, DataBuffers.of(f, true, false));
    }

    @Override
    public Variable<TFloat32> state(Ops tf, String name, Shape shape, Init init) {
      throw new UnsupportedOperationException("adapters keep no state");
    }
  }
}
