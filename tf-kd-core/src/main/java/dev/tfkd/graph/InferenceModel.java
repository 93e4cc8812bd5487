package dev.tfkd.graph;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Normalization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.op.io.ParseExample;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * A trained model rebuilt as a clean inference graph: input placeholder {@code inputs}, outputs {@code logits},
 * {@code probabilities} and {@code classes}, the architecture in inference mode, and the model's own variables
 * restored from a checkpoint. Nothing else is in the graph, so exporting its session writes a serving model.
 *
 * <p>Two serving signatures ({@code dev.tfkd.export.Signatures}) share the one forward pass. Predict feeds
 * {@code inputs} directly. Classify (TensorFlow Serving's Classify API) feeds serialized {@code tf.Example}s to {@code examples};
 * they are parsed in the graph (feature {@value #EXAMPLE_FEATURE}: a float list of the flattened example) and are
 * the default value of {@code inputs}, which is a {@code PlaceholderWithDefault}: a predict call feeds
 * {@code inputs}, so TensorFlow prunes the parsing away; a classify call does not, so the parsed values flow in.
 * With {@link Options#normalization()}, {@code inputs} are raw features and {@code (x - mean) / std} runs in the graph
 * before the architecture.
 *
 * <p>Owns its graph and session; close it. Predictions may be called from several threads (TensorFlow sessions
 * are thread-safe), but not concurrently with {@link #close()}.
 */
public final class InferenceModel implements AutoCloseable {
  /** Graph node names of the input and the outputs (the signatures in {@code dev.tfkd.export} use the same). */
  public static final String INPUTS = "inputs";

  /** Name of the logits output. */
  public static final String LOGITS = "logits";
  /** Name of the probabilities output. */
  public static final String PROBABILITIES = "probabilities";
  /** Name of the predicted-class output. */
  public static final String CLASSES = "classes";
  /** The graph node fed by the classify signature's serialized tf.Examples. */
  public static final String EXAMPLES = "examples";
  private static final String SCORES = "scores";
  /** The tf.Example feature holding the flattened example as a float list. */
  public static final String EXAMPLE_FEATURE = "x";

  /**
   * What the exported graph adds around the architecture.
   *
   * @param normalization the per-channel mean and standard deviation the model was trained with ({@link
   *     Normalization#fit}), applied in the graph before the architecture so clients send raw inputs; or {@code null}
   *     when clients send already-normalised inputs
   * @param classLabels the string label of each class for the classify signature, or {@code null} for {@code "0"}
   *     to {@code "K-1"}
   */
  public record Options(Normalization normalization, List<String> classLabels) {
    /** No preprocessing, labels {@code "0"} to {@code "K-1"}. */
    public static final Options DEFAULT = new Options(null, null);

    /** Copies the class labels. */
    public Options {
      classLabels = classLabels == null ? null : List.copyOf(classLabels);
    }
  }

  private final Architecture architecture;
  private final Graph graph;
  private final Session session;
  private final Options options;
  private final Operand<TFloat32> inputs;
  private final Operand<TString> examples;
  private final Operand<TFloat32> logits;
  private final Operand<TFloat32> probabilities;
  private final Operand<TInt64> classes;
  private final Operand<TString> classLabels;
  private final Operand<TFloat32> scores;
  private final java.util.Map<String, Operand<TFloat32>> features;
  private final RestoredVariables variables = new RestoredVariables();

  private InferenceModel(Architecture architecture, ConfigProto config, Options options) {
    this.architecture = architecture;
    this.options = options;
    List<String> labels = labels(architecture.numClasses(), options.classLabels());
    this.graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      long[] shape = architecture.inputShape();
      int exampleSize = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
      // Classify path: serialized tf.Examples, parsed in the graph. Its default (no examples) keeps the graph valid
      // when only the predict path is fed.
      examples =
          tf.withName(EXAMPLES).placeholderWithDefault(emptyStrings(tf), Shape.of(-1));
      ParseExample parsed =
          tf.withSubScope("parse").io.parseExample(
              examples,
              emptyStrings(tf),
              emptyStrings(tf),
              tf.array(EXAMPLE_FEATURE),
              emptyStrings(tf),
              List.of(tf.constant(new float[0])),
              0L,
              List.of(),
              List.of(),
              List.of(),
              List.of(Shape.of(exampleSize)));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> flat = (Operand<TFloat32>) parsed.denseValues().get(0);
      Shape batchShape = batchShape(shape);
      inputs =
          tf.withName(INPUTS).placeholderWithDefault(tf.reshape(flat, tf.constant(batchShape.asArray())), batchShape);
      Operand<TFloat32> x = inputs;
      Normalization norm = options.normalization();
      if (norm != null) {
        Ops pre = tf.withSubScope("preprocessing");
        x = pre.math.div(pre.math.sub(x, broadcastable(pre, norm.mean(), shape)), broadcastable(pre, norm.std(), shape));
      }
      Forward forward = architecture.build(tf, x, variables, Architecture.Mode.INFERENCE);
      // The architecture's own tensors, named nowhere else: an export's optional features signature points at them
      // without adding a node, so the graph is the same with or without it.
      features = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(forward.features()));
      logits = tf.withName(LOGITS).identity(forward.logits());
      probabilities = tf.withName(PROBABILITIES).nn.softmax(logits);
      classes = tf.withName(CLASSES).math.argMax(logits, tf.constant(1), TInt64.class);
      // Classify outputs: every class's label and score, [batch, K] each, as TensorFlow Serving's Classify expects.
      Operand<TInt32> batch = tf.shapeN(List.of(logits)).output().get(0);
      Operand<TInt32> rows = tf.slice(batch, tf.constant(new int[] {0}), tf.constant(new int[] {1}));
      classLabels =
          tf.withName("class_labels").tile(
              tf.expandDims(tf.array(labels.toArray(new String[0])), tf.constant(0)),
              tf.concat(List.of(rows, tf.constant(new int[] {1})), tf.constant(0)));
      scores = tf.withName(SCORES).identity(probabilities);
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
    return restore(architecture, checkpointPrefix, config, Options.DEFAULT);
  }

  /** As {@link #restore(Architecture, Path, ConfigProto)}, with preprocessing and class labels. */
  public static InferenceModel restore(
      Architecture architecture, Path checkpointPrefix, ConfigProto config, Options options) {
    InferenceModel model = new InferenceModel(architecture, config, options);
    try {
      model.session.restore(checkpointPrefix.toString());
      return model;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * The inference graph of {@code architecture} with its variables not restored: for reading what an export of it
   * would look like (its signatures) before it is trained. Running it fails (uninitialised variables).
   *
   * @param architecture the architecture
   * @param options preprocessing and class labels
   * @return the model; close it
   */
  public static InferenceModel unrestored(Architecture architecture, Options options) {
    return new InferenceModel(architecture, ConfigProto.getDefaultInstance(), options);
  }

  /**
   * The architecture's feature points in this graph ({@link Forward#features()}), by name in the architecture's
   * order: what an export's optional {@code features} signature returns.
   *
   * @return the points; empty for an architecture that names none
   */
  public java.util.Map<String, Operand<TFloat32>> features() {
    return features;
  }

  /** The input: float32 {@code [batch, dims...]}, raw features when the graph normalises. */
  public Operand<TFloat32> inputs() {
    return inputs;
  }

  /** Serialized tf.Examples {@code [batch]}, parsed in the graph and the default of {@link #inputs()}. */
  public Operand<TString> examples() {
    return examples;
  }

  /** Logits {@code [batch, K]}. */
  public Operand<TFloat32> logits() {
    return logits;
  }

  /** Softmax probabilities {@code [batch, K]}. */
  public Operand<TFloat32> probabilities() {
    return probabilities;
  }

  /** The most probable class, int64 {@code [batch]}. */
  public Operand<TInt64> classes() {
    return classes;
  }

  /** Every class's label, {@code [batch, K]} strings, as TensorFlow Serving's Classify returns them. */
  public Operand<TString> classLabelOutput() {
    return classLabels;
  }

  /** Every class's score (probability), {@code [batch, K]}, beside {@link #classLabelOutput()}. */
  public Operand<TFloat32> scores() {
    return scores;
  }

  /** The preprocessing and labels this graph was built with. */
  public Options options() {
    return options;
  }

  /** The class labels of the classify signature, in class order. */
  public List<String> classLabels() {
    return labels(architecture.numClasses(), options.classLabels());
  }

  private static List<String> labels(int k, List<String> given) {
    if (given == null) {
      List<String> l = new ArrayList<>(k);
      for (int c = 0; c < k; c++) {
        l.add(Integer.toString(c));
      }
      return l;
    }
    if (given.size() != k) {
      throw new IllegalArgumentException("expected " + k + " class labels, got " + given.size());
    }
    return given;
  }

  private static Operand<TString> emptyStrings(Ops tf) {
    return tf.constant(org.tensorflow.ndarray.NdArrays.ofObjects(String.class, Shape.of(0)));
  }

  /**
   * {@code values} shaped to broadcast against {@code [batch, shape...]}: one value, one per channel (the last
   * dimension, as {@link Normalization} computes them) or one per element.
   */
  private static Operand<TFloat32> broadcastable(Ops tf, float[] values, long[] shape) {
    long size = Arrays.stream(shape).reduce(1, Math::multiplyExact);
    if (values.length == 1) {
      return tf.constant(values[0]);
    }
    if (values.length == shape[shape.length - 1]) {
      return tf.constant(values);
    }
    if (values.length == size) {
      return tf.reshape(tf.constant(values), tf.constant(shape));
    }
    throw new IllegalArgumentException(
        "normalization has " + values.length + " values; expected 1, " + shape[shape.length - 1] + " (per channel) or "
            + size + " (per element) for input shape " + Arrays.toString(shape));
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

  /**
   * The architecture this model runs.
   *
   * @return the architecture
   */
  public Architecture architecture() {
    return architecture;
  }

  /** The session holding the restored variables; owned by this model. */
  public Session session() {
    return session;
  }

  /** Logits for every example of {@code data}, {@code size x K} row-major, computed in batches. */
  public float[] logits(Dataset data) {
    return Batches.logits(session, inputs, logits, architecture.numClasses(), data, Batches.defaultBatchSize(data.exampleSize()));
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
