package dev.tfkd.graph;

import dev.tfkd.data.Dataset;
import java.nio.file.Path;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * A trained model rebuilt as a clean inference graph: input placeholder {@code inputs}, outputs {@code logits},
 * {@code probabilities} and {@code classes}, the architecture in inference mode, and the model's own variables
 * restored from a checkpoint. Nothing else is in the graph, so exporting its session writes a serving model.
 *
 * <p>Owns its graph and session; close it. Predictions may be called from several threads (TensorFlow sessions
 * are thread-safe), but not concurrently with {@link #close()}.
 */
public final class InferenceModel implements AutoCloseable {
  /** Signature input and output names, shared by every tf-kd export. */
  public static final String INPUTS = "inputs";

  public static final String LOGITS = "logits";
  public static final String PROBABILITIES = "probabilities";
  public static final String CLASSES = "classes";
  public static final String PREDICT_METHOD = "tensorflow/serving/predict";

  private final Architecture architecture;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TFloat32> inputs;
  private final Operand<TFloat32> logits;
  private final Operand<TFloat32> probabilities;
  private final Operand<TInt64> classes;
  private final RestoredVariables variables = new RestoredVariables();

  private InferenceModel(Architecture architecture, ConfigProto config) {
    this.architecture = architecture;
    this.graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      inputs =
          tf.withName(INPUTS).placeholder(TFloat32.class, Placeholder.shape(batchShape(architecture.inputShape())));
      Forward forward =
          architecture.build(tf, inputs, variables, Architecture.Mode.INFERENCE);
      logits = tf.withName(LOGITS).identity(forward.logits());
      probabilities = tf.withName(PROBABILITIES).nn.softmax(logits);
      classes = tf.withName(CLASSES).math.argMax(logits, tf.constant(1), TInt64.class);
      session = new Session(graph, config);
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  /**
   * Builds the inference graph of {@code architecture} and restores its variables from {@code checkpointPrefix}
   * (as written by {@link Session#save}).
   */
  public static InferenceModel restore(Architecture architecture, Path checkpointPrefix, ConfigProto config) {
    InferenceModel model = new InferenceModel(architecture, config);
    try {
      model.session.restore(checkpointPrefix.toString());
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** The {@code serving_default} signature of this graph, method {@value #PREDICT_METHOD}. */
  public Signature servingSignature() {
    return Signature.builder()
        .key(Signature.DEFAULT_KEY)
        .methodName(PREDICT_METHOD)
        .input(INPUTS, inputs)
        .output(LOGITS, logits)
        .output(PROBABILITIES, probabilities)
        .output(CLASSES, classes)
        .build();
  }

  /**
   * The current value of every model variable (weights and state such as moving averages), by name, flattened
   * row-major: what {@link TrainingVariables} takes to start fine-tuning from this model.
   */
  public java.util.Map<String, float[]> variableValues() {
    java.util.Map<String, float[]> out = new java.util.LinkedHashMap<>();
    for (String name : variables.names()) {
      try (Result r = session.runner().fetch(name).run()) {
        TFloat32 t = (TFloat32) r.get(0);
        float[] v = new float[(int) t.shape().size()];
        t.asRawTensor().data().asFloats().read(v);
        out.put(name, v);
      }
    }
    return out;
  }

  public Architecture architecture() {
    return architecture;
  }

  /** The session holding the restored variables; owned by this model. */
  public Session session() {
    return session;
  }

  /** Logits for every example of {@code data}, {@code size x K} row-major, computed in batches. */
  public float[] logits(Dataset data) {
    int k = architecture.numClasses();
    int e = data.exampleSize();
    float[] out = new float[data.size() * k];
    int batch = Math.max(1, Math.min(1024, (1 << 22) / Math.max(1, e)));
    for (int start = 0; start < data.size(); start += batch) {
      int n = Math.min(batch, data.size() - start);
      try (TFloat32 x = Tensors.floats(batchShape(architecture.inputShape(), n), data.features(), start * e, n * e);
          Result r = session.runner().feed(inputs, x).fetch(logits).run()) {
        ((TFloat32) r.get(0)).asRawTensor().data().asFloats().read(out, start * k, n * k);
      }
    }
    return out;
  }

  /** {@code [-1, dims...]}. */
  public static Shape batchShape(long[] exampleShape) {
    return batchShape(exampleShape, -1);
  }

  /** {@code [batch, dims...]}. */
  public static Shape batchShape(long[] exampleShape, long batch) {
    long[] dims = new long[exampleShape.length + 1];
    dims[0] = batch;
    System.arraycopy(exampleShape, 0, dims, 1, exampleShape.length);
    return Shape.of(dims);
  }

  @Override
  public void close() {
    try {
      if (session != null) {
        session.close();
      }
    } finally {
      graph.close();
    }
  }
}
