package dev.tfkd.export;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;

/**
 * A classifier SavedModel bound to one signature's input and output, in its own session: the one place that
 * reads, judges and loads such a model ({@link ScannedSavedModel}), decides what its output holds ({@link
 * OutputKind}, {@link OutputEvidence}) and computes logits in batches. {@link Predictor} (for applications) and
 * {@code dev.tfkd.teacher.SavedModelTeacher} (for distillation) are built on it.
 *
 * <p>Works with any SavedModel whose signature takes one float32 input {@code [batch, ...]} and has an output of
 * logits, probabilities or log-probabilities {@code [batch, K]}, or a binary classifier's probability of class 1
 * ({@code [batch]} or {@code [batch, 1]}, a sigmoid's), read as two classes ({@link OutputKind#BINARY_PROBABILITY}).
 * The {@code {serve}} meta graph is scanned by {@link GraphSafety} and refused if any op that loading or calling it can run does more than compute (loading runs
 * the graph), unless {@link Binding#allowUnsafeOps()}; what is loaded is exactly what was scanned.
 *
 * <p>Thread-safe: TensorFlow sessions run concurrent calls; a read-write lock keeps {@link #close()} from freeing the
 * model under a running call. Large inputs are cut into batches of {@link Binding#maxBatch()}; every tensor is
 * freed before a call returns, so nothing native outlives {@link #close()}.
 */
public final class SavedModelClassifier implements AutoCloseable {
  /**
   * The smallest probability whose logarithm is taken: {@code log(max(p, 1e-30))} (about -69.1). A probability
   * of exactly 0 would give {@code -inf} and poison every softmax-based loss; 1e-30 is far below any probability a
   * float32 softmax gives a class it does not rule out (its smallest normal value is about 1.2e-38), and a
   * temperature of 20 still leaves such a class at {@code exp(-3.5)} of the others' scale, never NaN.
   */
  public static final float PROBABILITY_FLOOR = 1e-30f;

  /**
   * Which signature, input and output of the model to use, and how to run it.
   *
   * @param signature the signature key, e.g. {@code serving_default}
   * @param input the input to feed, or {@code null}: the signature's only input
   * @param output the output to read, or {@code null}: {@code logits} if the signature has it, else
   *     {@code probabilities}, else its only output
   * @param kind what {@code output} holds, or {@link OutputKind#AUTO}: decided from the graph and confirmed by the
   *     values
   * @param allowUnsafeOps load even if the graph holds ops outside the allow-list
   * @param maxBatch the most examples sent to TensorFlow in one call
   * @param threads TensorFlow intra-op threads, 0 for TensorFlow's default, at most {@link
   *     dev.tfkd.training.SessionSettings#MAX_THREADS}
   */
  public record Binding(
      String signature, String input, String output, OutputKind kind, boolean allowUnsafeOps, int maxBatch,
      int threads) {
    /** {@code serving_default}, its only input, the output kind found in the graph, safe ops only, batches of 256. */
    public static final Binding DEFAULT = new Binding("serving_default", null, null, OutputKind.AUTO, false, 256, 0);

    /** Validates the names and bounds. */
    public Binding {
      if (signature == null || signature.isEmpty()) {
        throw new IllegalArgumentException("signature must be named");
      }
      if (kind == null) {
        throw new IllegalArgumentException(
            "output kind must be given (LOGITS, PROBABILITIES, LOG_PROBABILITIES, BINARY_PROBABILITY or AUTO)");
      }
      if (maxBatch < 1) {
        throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
      }
      dev.tfkd.training.SessionSettings.checkThreads("threads", threads);
    }
  }

  /**
   * Which tensors of the model serve as its feature points, fetched in the same call as the logits ({@link
   * #featureOutputs}). Every tensor must be in the scanned top-level graph (what is loaded is what was scanned; a
   * function body's tensors cannot be fetched), float32, and of shape {@code [batch, d1, ...]} with every {@code di}
   * known; otherwise the load is refused with one line naming the tensor and the model.
   *
   * @param signature take every output of the model's {@value Signatures#FEATURES_KEY} signature (a tf-kd export
   *     made with its feature points), when it has one, as the point of the output's name
   * @param tensors more points by name: a graph tensor {@code node:index} (or {@code node}, index 0) each; a name
   *     also served by the signature takes this tensor
   */
  public record FeatureBinding(boolean signature, java.util.Map<String, String> tensors) {
    /** No feature points. */
    public static final FeatureBinding NONE = new FeatureBinding(false, java.util.Map.of());

    /** Copies the tensors in their order; point names are letters, digits and {@code _}. */
    public FeatureBinding {
      tensors = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tensors));
      for (var e : tensors.entrySet()) {
        requirePointName(e.getKey(), e.getKey() + "=" + e.getValue());
        if (e.getValue() == null || e.getValue().isBlank()) {
          throw new IllegalArgumentException("feature point '" + e.getKey() + "' names no tensor (NAME=TENSOR)");
        }
      }
    }

    /** Whether any point is asked for. */
    public boolean any() {
      return signature || !tensors.isEmpty();
    }
  }

  /**
   * A feature point's name must make a graph name on the student's side: letters, digits and {@code _}.
   *
   * @throws IllegalArgumentException naming {@code what} otherwise
   */
  static void requirePointName(String name, String what) {
    if (name == null || !name.matches("[A-Za-z][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException(
          "feature point '" + name + "' (" + what + "): a name is a letter, then letters, digits and '_'");
    }
  }

  /** One feature point served by the model: its name, the tensor fetched, its shape per example. */
  private record Point(String name, String tensor, long[] shape, int size) {}

  /**
   * Logits and feature points of {@code n} examples.
   *
   * @param logits {@code n x K} row-major, as {@link #logits(float[], int)} returns them
   * @param points each point's values by name, {@code n x} the product of its shape, row-major
   */
  public record FeatureOutputs(float[] logits, java.util.Map<String, float[]> points) {}

  private final Path dir;
  private final SavedModelBundle bundle;
  private final List<Point> points;
  private final String inputName;
  private final String outputName;
  private final String inputTensor;
  private final String outputTensor;
  /** The signature's own {@code probabilities} output, fetched beside a logits output; null when it has none. */
  private final String probabilitiesTensor;
  private final List<String> classNames;
  /** The kind decided so far; AUTO until the values decide a model whose graph says nothing. */
  private volatile OutputKind kind;
  /** What the graph said, when the kind was AUTO; null otherwise (nothing to confirm). */
  private final OutputEvidence.Found graphEvidence;
  private volatile boolean confirmed;
  private volatile String decision;
  private final long[] exampleShape;
  private final int exampleSize;
  private final int numClasses;
  /** Values the output gives per example: {@code numClasses}, or 1 for a binary probability. */
  private final int outputWidth;
  private final int maxBatch;
  private final List<GraphSafety.Finding> unsafeOps;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean closed;

  private SavedModelClassifier(
      Path dir, SavedModelBundle bundle, SignatureDef sig, String input, String output, OutputKind kind,
      OutputEvidence.Found graphEvidence, long[] shape, int k, Binding options, List<GraphSafety.Finding> unsafeOps,
      List<String> classNames, List<Point> points) {
    this.dir = dir;
    this.points = List.copyOf(points);
    this.inputTensor = sig.getInputsOrThrow(input).getName();
    this.outputTensor = sig.getOutputsOrThrow(output).getName();
    TensorInfo p = output.equals(Signatures.PROBABILITIES) ? null : sig.getOutputsMap().get(Signatures.PROBABILITIES);
    this.probabilitiesTensor =
        p != null && p.getDtype() == DataType.DT_FLOAT && p.getTensorShape().getDimCount() == 2
                && p.getTensorShape().getDim(1).getSize() == k
            ? p.getName()
            : null;
    this.classNames = classNames;
    this.bundle = bundle;
    this.inputName = input;
    this.outputName = output;
    this.kind = kind;
    this.graphEvidence = graphEvidence;
    this.confirmed = graphEvidence == null;
    this.decision =
        graphEvidence == null
            ? "output '" + output + "' read as " + describe(kind) + " (set explicitly)"
            : "output '" + output + "' read as " + describe(kind) + " (" + graphEvidence.describe()
                + " in the graph; not yet confirmed by values)";
    this.exampleShape = shape;
    long size = 1;
    for (long d : shape) {
      size *= d;
    }
    this.exampleSize = Math.toIntExact(size);
    this.numClasses = kind == OutputKind.BINARY_PROBABILITY ? 2 : k;
    this.outputWidth = kind == OutputKind.BINARY_PROBABILITY ? 1 : k;
    this.maxBatch = options.maxBatch();
    this.unsafeOps = List.copyOf(unsafeOps);
  }

  /** Loads the SavedModel in {@code dir} with {@link Binding#DEFAULT}. */
  public static SavedModelClassifier load(Path dir) {
    return load(dir, Binding.DEFAULT);
  }

  /**
   * Loads the SavedModel in {@code dir} (tag {@code serve}). {@code dir} may also be a model's base directory
   * ({@code <root>/<name>}), in which case its highest integer version is loaded.
   *
   * @throws IllegalArgumentException if it is not a usable SavedModel or holds unsafe ops (naming op and node)
   */
  public static SavedModelClassifier load(Path dir, Binding options) {
    return load(dir, options, FeatureBinding.NONE);
  }

  /**
   * As {@link #load(Path, Binding)}, also serving the feature points {@code features} names ({@link
   * #featureOutputs}).
   *
   * @throws IllegalArgumentException also when a feature tensor is not in the scanned graph, not float32, or has no
   *     static shape per example (one line naming the tensor and the model)
   */
  public static SavedModelClassifier load(Path dir, Binding options, FeatureBinding features) {
    try {
      Path versionDir = resolveVersion(dir);
      // Read once, judged, and loaded from the same bytes: see ScannedSavedModel.
      ScannedSavedModel scanned = ScannedSavedModel.read(versionDir, Set.of(ServingExporter.SERVE_TAG));
      List<GraphSafety.Finding> findings = scanned.check(options.allowUnsafeOps());
      MetaGraphDef meta = scanned.metaGraph();
      SignatureDef sig = meta.getSignatureDefMap().get(options.signature());
      if (sig == null) {
        throw new IllegalArgumentException(
            versionDir + ": no signature '" + options.signature() + "' (has " + meta.getSignatureDefMap().keySet() + ")");
      }
      if (options.input() != null && !sig.containsInputs(options.input())) {
        throw new IllegalArgumentException(
            versionDir + ": signature '" + options.signature() + "' has no input '" + options.input() + "' (has "
                + sig.getInputsMap().keySet() + ")");
      }
      if (sig.getInputsCount() != 1) {
        // Every input of a signature must be fed; only one is ever given.
        throw new IllegalArgumentException(
            versionDir + ": signature '" + options.signature() + "' has inputs " + sig.getInputsMap().keySet()
                + "; exactly one float input is supported");
      }
      var in = sig.getInputsMap().entrySet().iterator().next();
      if (in.getValue().getDtype() != DataType.DT_FLOAT) {
        throw new IllegalArgumentException(
            versionDir + ": input '" + in.getKey() + "' is " + in.getValue().getDtype() + ", expected DT_FLOAT");
      }
      String output = chooseOutput(versionDir, options, sig);
      TensorInfo out = sig.getOutputsOrThrow(output);
      if (out.getDtype() != DataType.DT_FLOAT) {
        throw new IllegalArgumentException(
            versionDir + ": output '" + output + "' is " + out.getDtype() + ", expected DT_FLOAT logits or probabilities");
      }
      long[] shape = exampleShape(versionDir, in.getKey(), in.getValue());
      var outDims = out.getTensorShape().getDimList();
      int rank = out.getTensorShape().getUnknownRank() ? -1 : outDims.size();
      // [batch] or [batch, 1]: one value per example, which only a binary probability can be read from.
      boolean oneValue = rank == 1 || rank == 2 && outDims.get(1).getSize() == 1;
      OutputEvidence.Found evidence = null;
      OutputKind kind = options.kind();
      if (kind == OutputKind.AUTO) {
        evidence = OutputEvidence.fromGraph(meta, options.signature(), output);
        kind = fromGraph(evidence.op(), oneValue);
      }
      if (kind == OutputKind.BINARY_PROBABILITY && !oneValue) {
        throw new IllegalArgumentException(
            versionDir + ": output '" + output + "' has shape " + shapeOf(out) + "; a binary probability is one value"
                + " per example ([batch] or [batch, 1])");
      }
      if (kind != OutputKind.BINARY_PROBABILITY && (rank != 2 || outDims.get(1).getSize() < 1)) {
        throw new IllegalArgumentException(
            versionDir + ": output '" + output + "' has shape " + shapeOf(out) + "; expected [batch, K] with K known"
                + (rank == 1 ? " (a [batch] output is read only as a binary probability: a Sigmoid in the graph, or"
                    + " the output kind BINARY_PROBABILITY)" : ""));
      }
      int k = kind == OutputKind.BINARY_PROBABILITY ? 1 : Math.toIntExact(outDims.get(1).getSize());
      ConfigProto config =
          options.threads() == 0
              ? ConfigProto.getDefaultInstance()
              : ConfigProto.newBuilder()
                  .setIntraOpParallelismThreads(options.threads())
                  .setInterOpParallelismThreads(1)
                  .build();
      SavedModelBundle bundle = scanned.load(config);
      try {
        List<Point> points = points(versionDir, meta, sig.getInputsOrThrow(in.getKey()).getName(), bundle, features);
        return new SavedModelClassifier(
            versionDir, bundle, sig, in.getKey(), output, kind, evidence, shape, k, options, findings,
            classNames(meta, k), points);
      } catch (RuntimeException e) {
        bundle.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * The feature points {@code features} asks for, each checked against the scanned meta graph {@code meta} (its
   * top-level nodes) and typed by the loaded graph, which was built from exactly those bytes.
   */
  private static List<Point> points(
      Path dir, MetaGraphDef meta, String inputTensor, SavedModelBundle bundle, FeatureBinding features) {
    java.util.Map<String, String> tensors = new java.util.LinkedHashMap<>();
    // Shapes a signature declares, for a tensor the graph's shape inference leaves open (a call into a function).
    java.util.Map<String, TensorInfo> declared = new java.util.HashMap<>();
    for (SignatureDef s : meta.getSignatureDefMap().values()) {
      s.getOutputsMap().values().forEach(t -> declared.putIfAbsent(t.getName(), t));
    }
    SignatureDef sig = features.signature() ? meta.getSignatureDefMap().get(Signatures.FEATURES_KEY) : null;
    if (sig != null) {
      if (sig.getInputsCount() != 1 || !sig.getInputsMap().values().iterator().next().getName().equals(inputTensor)) {
        throw new IllegalArgumentException(
            dir + ": signature '" + Signatures.FEATURES_KEY + "' does not read the same input as the logits ("
                + inputTensor + "); its points cannot be computed with them");
      }
      for (var e : new java.util.TreeMap<>(sig.getOutputsMap()).entrySet()) {
        requirePointName(e.getKey(), dir + " signature '" + Signatures.FEATURES_KEY + "'");
        tensors.put(e.getKey(), e.getValue().getName());
      }
    }
    tensors.putAll(features.tensors());
    java.util.Set<String> nodes = new java.util.HashSet<>();
    for (org.tensorflow.proto.NodeDef n : meta.getGraphDef().getNodeList()) {
      nodes.add(n.getName());
    }
    List<Point> out = new java.util.ArrayList<>();
    for (var e : tensors.entrySet()) {
      String what = dir + ": feature point " + e.getKey() + "=" + e.getValue();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("([^:^]+)(?::(\\d{1,9}))?").matcher(e.getValue());
      if (!m.matches() || !nodes.contains(m.group(1))) {
        throw new IllegalArgumentException(
            what + ": no such tensor in the model's graph (a top-level node, written NODE or NODE:INDEX; tensors"
                + " inside a function body cannot be fetched)");
      }
      int index = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
      org.tensorflow.GraphOperation op = bundle.graph().operation(m.group(1));
      if (op == null || index >= op.numOutputs()) {
        throw new IllegalArgumentException(
            what + ": no such tensor in the model's graph (node " + m.group(1) + " has "
                + (op == null ? 0 : op.numOutputs()) + " outputs)");
      }
      org.tensorflow.Output<?> t = op.output(index);
      if (t.dataType() != DataType.DT_FLOAT) {
        throw new IllegalArgumentException(what + ": the tensor is " + t.dataType() + "; feature points must be DT_FLOAT");
      }
      long[] dims = t.shape().isUnknown() ? null : t.shape().asArray();
      TensorInfo info = declared.get(op.name() + ":" + index);
      if (!isStatic(dims) && info != null && !info.getTensorShape().getUnknownRank()) {
        dims = info.getTensorShape().getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
      }
      if (!isStatic(dims)) {
        throw new IllegalArgumentException(
            what + ": the tensor's shape is " + (dims == null ? "unknown" : java.util.Arrays.toString(dims))
                + "; a feature point needs [batch, ...] with every size but the batch known");
      }
      if (dims[0] >= 0) {
        throw new IllegalArgumentException(
            what + ": the tensor's shape " + java.util.Arrays.toString(dims) + " has no batch dimension (its first size"
                + " is fixed)");
      }
      long[] shape = java.util.Arrays.copyOfRange(dims, 1, dims.length);
      out.add(new Point(e.getKey(), op.name() + ":" + index, shape,
          Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact))));
    }
    return out;
  }

  /** Rank at least 2 and every size after the first known. */
  private static boolean isStatic(long[] dims) {
    if (dims == null || dims.length < 2) {
      return false;
    }
    for (int i = 1; i < dims.length; i++) {
      if (dims[i] < 1) {
        return false;
      }
    }
    return true;
  }

  /**
   * The class names the model's classify signature returns: its {@code classes} output traced back through {@code
   * Tile}, {@code ExpandDims}, {@code Identity} and {@code Reshape} to a string constant of {@code k} values (how
   * tf-kd's exports hold them); {@code "0"} to {@code "K-1"} when there is no such signature or constant.
   */
  static List<String> classNames(MetaGraphDef meta, int k) {
    List<String> fallback = new java.util.ArrayList<>(k);
    for (int c = 0; c < k; c++) {
      fallback.add(Integer.toString(c));
    }
    SignatureDef classify = meta.getSignatureDefMap().get(Signatures.CLASSIFY_KEY);
    TensorInfo classes = classify == null ? null : classify.getOutputsMap().get(Signatures.CLASSIFY_CLASSES);
    if (classes == null || classes.getDtype() != DataType.DT_STRING) {
      return fallback;
    }
    java.util.Map<String, org.tensorflow.proto.NodeDef> nodes = new java.util.HashMap<>();
    for (org.tensorflow.proto.NodeDef n : meta.getGraphDef().getNodeList()) {
      nodes.put(n.getName(), n);
    }
    String name = classes.getName();
    // A bounded walk: a malformed graph with a cycle must not hang the load.
    for (int hops = 0; hops < 8 && name != null; hops++) {
      org.tensorflow.proto.NodeDef n = nodes.get(name.replaceFirst("^\\^", "").replaceFirst(":\\d+$", ""));
      if (n == null) {
        break;
      }
      if (n.getOp().equals("Const")) {
        org.tensorflow.proto.TensorProto t = n.getAttrOrThrow("value").getTensor();
        if (t.getDtype() == DataType.DT_STRING && t.getStringValCount() == k) {
          List<String> out = new java.util.ArrayList<>(k);
          t.getStringValList().forEach(b -> out.add(b.toStringUtf8()));
          return List.copyOf(out);
        }
        if (t.getDtype() == DataType.DT_STRING && !t.getTensorContent().isEmpty()) {
          List<String> out = decodeStrings(t.getTensorContent().toByteArray(), k);
          return out != null ? out : fallback;
        }
        break;
      }
      if (!Set.of("Tile", "ExpandDims", "Identity", "Reshape").contains(n.getOp()) || n.getInputCount() == 0) {
        break;
      }
      name = n.getInput(0);
    }
    return fallback;
  }

  /**
   * {@code n} strings from a string tensor's {@code tensor_content} (TensorFlow's encoding: the {@code n} lengths as
   * varints, then the bytes one after another), or null if the bytes do not decode to exactly that.
   */
  private static List<String> decodeStrings(byte[] b, int n) {
    long[] lengths = new long[n];
    int p = 0;
    for (int i = 0; i < n; i++) {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        if (p >= b.length || shift > 35) {
          return null;
        }
        int x = b[p++] & 0xff;
        v |= (long) (x & 0x7f) << shift;
        if (x < 0x80) {
          break;
        }
      }
      lengths[i] = v;
    }
    List<String> out = new java.util.ArrayList<>(n);
    for (long len : lengths) {
      if (len > b.length - p) {
        return null;
      }
      out.add(new String(b, p, (int) len, java.nio.charset.StandardCharsets.UTF_8));
      p += (int) len;
    }
    return p == b.length ? List.copyOf(out) : null;
  }

  /**
   * The kind the graph's op implies for an output of one value per example ({@code oneValue}) or of several; AUTO
   * when it says nothing the values cannot settle better.
   */
  private static OutputKind fromGraph(OutputEvidence.Op op, boolean oneValue) {
    return switch (op) {
      case SOFTMAX -> OutputKind.PROBABILITIES;
      case LOG_SOFTMAX -> OutputKind.LOG_PROBABILITIES;
      case OTHER -> OutputKind.LOGITS;
      // A single sigmoid is a binary classifier's probability of class 1. Over several columns it gives each its
      // own probability (multi-label, no distribution over classes): like an unknown op, the values decide.
      case SIGMOID -> oneValue ? OutputKind.BINARY_PROBABILITY : OutputKind.AUTO;
      case UNKNOWN -> OutputKind.AUTO;
    };
  }

  /** {@code [-1, 10]}: a signature tensor's declared shape, {@code -1} for unknown sizes. */
  private static String shapeOf(TensorInfo t) {
    if (t.getTensorShape().getUnknownRank()) {
      return "of unknown rank";
    }
    return t.getTensorShape().getDimList().stream().map(d -> Long.toString(d.getSize()))
        .collect(java.util.stream.Collectors.joining(", ", "[", "]"));
  }

  private static String describe(OutputKind kind) {
    return switch (kind) {
      case LOGITS -> "logits";
      case PROBABILITIES -> "probabilities";
      case LOG_PROBABILITIES -> "log-probabilities";
      case BINARY_PROBABILITY -> "a binary probability p of class 1 (class 0: 1 - p)";
      case AUTO -> "undecided";
    };
  }

  private static OutputKind kindOf(OutputEvidence.Values values) {
    return switch (values) {
      case PROBABILITIES -> OutputKind.PROBABILITIES;
      case LOG_PROBABILITIES -> OutputKind.LOG_PROBABILITIES;
      case LOGITS -> OutputKind.LOGITS;
    };
  }

  /**
   * Confirms (or, when the graph said nothing, decides) the kind from the first batch's raw values.
   *
   * @throws IllegalArgumentException when the graph and the values disagree
   */
  private void confirm(float[] raw, int from, int count) {
    float[] batch = java.util.Arrays.copyOfRange(raw, from, from + count);
    OutputKind seen;
    if (kind == OutputKind.BINARY_PROBABILITY) {
      // Only a sigmoid found in the graph leads here; its values must all be in [0, 1].
      seen = OutputEvidence.fromBinaryValues(batch) == OutputEvidence.Values.PROBABILITIES ? kind : OutputKind.LOGITS;
    } else {
      seen = kindOf(OutputEvidence.fromValues(batch, numClasses));
    }
    if (kind == OutputKind.AUTO) {
      kind = seen;
      decision =
          "output '" + outputName + "' read as " + describe(seen) + " (decided by the values of the first batch; "
              + graphEvidence.describe() + " in the graph)";
    } else if (seen != kind) {
      throw new IllegalArgumentException(
          dir + ": output '" + outputName + "' is " + describe(kind) + " by the graph (" + graphEvidence.describe()
              + ") but its first batch's values look like " + describe(seen)
              + (kind == OutputKind.BINARY_PROBABILITY ? " (outside [0, 1])" : "")
              + "; set the output kind (--output-kind, --teacher-output-kind) to LOGITS, PROBABILITIES,"
              + " LOG_PROBABILITIES or BINARY_PROBABILITY to settle it");
    } else {
      decision =
          "output '" + outputName + "' read as " + describe(kind) + " (" + graphEvidence.describe()
              + " in the graph, confirmed by the values of the first batch)";
    }
    confirmed = true;
  }

  /** {@code dir} itself if it holds {@code saved_model.pb}, else its highest integer version subdirectory. */
  static Path resolveVersion(Path dir) throws IOException {
    if (Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      return dir;
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + ": no such directory");
    }
    var latest = ServingExporter.latestVersion(dir);
    if (latest.isEmpty()) {
      throw new IllegalArgumentException(dir + ": not a SavedModel (no saved_model.pb) and no integer version inside");
    }
    return dir.resolve(Long.toString(latest.getAsLong()));
  }

  private static String chooseOutput(Path dir, Binding options, SignatureDef sig) {
    if (options.output() != null) {
      if (!sig.containsOutputs(options.output())) {
        throw new IllegalArgumentException(
            dir + ": signature '" + options.signature() + "' has no output '" + options.output() + "' (has "
                + sig.getOutputsMap().keySet() + ")");
      }
      return options.output();
    }
    for (String name : List.of(Signatures.LOGITS, Signatures.PROBABILITIES)) {
      if (sig.containsOutputs(name)) {
        return name;
      }
    }
    if (sig.getOutputsCount() == 1) {
      return sig.getOutputsMap().keySet().iterator().next();
    }
    throw new IllegalArgumentException(
        dir + ": signature '" + options.signature() + "' has outputs " + sig.getOutputsMap().keySet()
            + "; name the one holding logits or probabilities");
  }

  private static long[] exampleShape(Path dir, String name, TensorInfo info) {
    var dims = info.getTensorShape().getDimList();
    if (info.getTensorShape().getUnknownRank() || dims.size() < 2) {
      throw new IllegalArgumentException(dir + ": input '" + name + "' must have shape [batch, ...] with a known rank");
    }
    long[] shape = new long[dims.size() - 1];
    for (int i = 1; i < dims.size(); i++) {
      shape[i - 1] = dims.get(i).getSize();
      if (shape[i - 1] < 1) {
        throw new IllegalArgumentException(
            dir + ": input '" + name + "' has an unknown dimension " + i + "; only the batch may be unknown");
      }
    }
    return shape;
  }

  /** The version directory loaded. */
  public Path directory() {
    return dir;
  }

  /** The shape of one example (without the batch dimension). */
  public long[] exampleShape() {
    return exampleShape.clone();
  }

  /** Values per example. */
  public int exampleSize() {
    return exampleSize;
  }

  /** The number of classes K. */
  public int numClasses() {
    return numClasses;
  }

  /** The signature output read. */
  public String output() {
    return outputName;
  }

  /** Whether the output holds probabilities (turned into logits by their floored logarithm), binary ones included. */
  public boolean outputsProbabilities() {
    return kind == OutputKind.PROBABILITIES || kind == OutputKind.BINARY_PROBABILITY;
  }

  /**
   * What the output was read as: {@code LOGITS}, {@code PROBABILITIES}, {@code LOG_PROBABILITIES} or {@code
   * BINARY_PROBABILITY}; {@code AUTO}
   * only before the first call for a model whose graph says nothing.
   */
  public OutputKind outputKind() {
    return kind;
  }

  /**
   * One line saying how the output is read and why, e.g. {@code output 'dense_1' read as probabilities (Softmax at
   * node '...' in the graph, confirmed by the values of the first batch)}.
   */
  public String outputDecision() {
    return decision;
  }

  /** Ops outside the allow-list that were accepted because {@link Binding#allowUnsafeOps()} was set. */
  public List<GraphSafety.Finding> unsafeOps() {
    return unsafeOps;
  }

  /**
   * The name of each class, in class order: what the model's classify signature returns as {@code classes} (the
   * names of the image folder or {@code --class-names} file it was trained with), else {@code "0"} to {@code
   * "K-1"}.
   *
   * @return K names
   */
  public List<String> classNames() {
    return classNames;
  }

  /**
   * The feature points the model serves ({@link FeatureBinding}), by name in binding order, each with its shape per
   * example.
   *
   * @return the shapes; empty when none were asked for
   */
  public java.util.Map<String, long[]> featureShapes() {
    java.util.Map<String, long[]> out = new java.util.LinkedHashMap<>();
    for (Point p : points) {
      out.put(p.name(), p.shape().clone());
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  /**
   * Logits and every feature point for {@code n} examples stored row-major in {@code features}, fetched in one
   * session call per batch (thread-safe, as {@link #logits(float[], int)}).
   *
   * @param features {@code n * exampleSize()} values
   * @param n the number of examples
   * @return the logits and the points; the caller owns the arrays
   * @throws IllegalStateException when a point comes back with another shape than the graph declared
   */
  public FeatureOutputs featureOutputs(float[] features, int n) {
    java.util.Map<String, float[]> values = new java.util.LinkedHashMap<>();
    for (Point p : points) {
      values.put(p.name(), new float[Math.multiplyExact(n, p.size())]);
    }
    float[] logits = run(features, n, false, values).logits();
    return new FeatureOutputs(logits, java.util.Collections.unmodifiableMap(values));
  }

  /**
   * Logits and probabilities for {@code n} examples, each {@code n x K} row-major.
   *
   * @param logits as {@link #logits(float[], int)} returns them
   * @param probabilities the model's own probabilities: its signature's {@code probabilities} output (fetched in
   *     the same call), or the output read when it holds probabilities; {@code null} when the model has neither
   */
  public record Outputs(float[] logits, float[] probabilities) {}

  /**
   * Logits and, where the model computes them, its probabilities, for {@code n} examples stored row-major in
   * {@code features}.
   *
   * @param features {@code n * exampleSize()} values
   * @param n the number of examples
   * @return both outputs
   */
  public Outputs outputs(float[] features, int n) {
    return run(features, n, true, null);
  }

  /**
   * Logits for {@code n} examples stored row-major in {@code features} ({@code n * exampleSize()} values),
   * {@code n x K} row-major. The core call; the other methods reshape around it.
   */
  public float[] logits(float[] features, int n) {
    return run(features, n, false, null).logits();
  }

  /** The core call; {@code points}, when given, receives every feature point's values (arrays sized by the caller). */
  private Outputs run(float[] features, int n, boolean withProbabilities, java.util.Map<String, float[]> points) {
    if (n < 0 || (long) n * exampleSize != features.length) {
      throw new IllegalArgumentException(
          features.length + " values do not make " + n + " examples of " + exampleSize + " values");
    }
    // The output's own values, outputWidth per example; turned into n x K logits below.
    float[] out = new float[n * outputWidth];
    // A binary model's probabilities are its sigmoid output itself: nothing more to fetch.
    boolean fetchProbabilities =
        withProbabilities && probabilitiesTensor != null && kind != OutputKind.BINARY_PROBABILITY;
    float[] probs = fetchProbabilities ? new float[n * numClasses] : null;
    // Every tensor once: a feature point may be the output itself (a Keras model's only top-level tensor), and a
    // result cannot hold one name twice.
    List<String> fetchOrder = new java.util.ArrayList<>(List.of(outputTensor));
    if (fetchProbabilities) {
      fetchOrder.add(probabilitiesTensor);
    }
    if (points != null) {
      this.points.stream().map(Point::tensor).filter(t -> !fetchOrder.contains(t)).distinct().forEach(fetchOrder::add);
    }
    lock.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("model is closed");
      }
      for (int start = 0; start < n; start += maxBatch) {
        int b = Math.min(maxBatch, n - start);
        long[] dims = new long[exampleShape.length + 1];
        dims[0] = b;
        System.arraycopy(exampleShape, 0, dims, 1, exampleShape.length);
        try (TFloat32 x =
                TFloat32.tensorOf(
                    Shape.of(dims), DataBuffers.of(features, true, false).slice((long) start * exampleSize, (long) b * exampleSize));
            Result r = fetch(bundle.session().runner().feed(inputTensor, x), fetchOrder).run()) {
          Tensor t = r.get(0);
          boolean binary = kind == OutputKind.BINARY_PROBABILITY;
          boolean fits =
              t.shape().numDimensions() == 2 && t.shape().get(0) == b && t.shape().get(1) == outputWidth
                  || binary && t.shape().numDimensions() == 1 && t.shape().get(0) == b;
          if (!(t instanceof TFloat32 f) || !fits) {
            throw new IllegalStateException(
                dir + ": output '" + outputName + "' came back with shape " + t.shape() + ", expected [" + b + ", "
                    + outputWidth + "]" + (binary ? " or [" + b + "]" : ""));
          }
          f.asRawTensor().data().asFloats().read(out, start * outputWidth, b * outputWidth);
          if (fetchProbabilities) {
            Tensor pt = r.get(1);
            if (!(pt instanceof TFloat32 pf) || !pt.shape().equals(t.shape())) {
              throw new IllegalStateException(
                  dir + ": output 'probabilities' came back with shape " + pt.shape() + ", expected " + t.shape());
            }
            pf.asRawTensor().data().asFloats().read(probs, start * numClasses, b * numClasses);
          }
          if (points != null) {
            for (Point p : this.points) {
              Tensor ft = r.get(fetchOrder.indexOf(p.tensor()));
              long[] want = new long[p.shape().length + 1];
              want[0] = b;
              System.arraycopy(p.shape(), 0, want, 1, p.shape().length);
              if (!(ft instanceof TFloat32 ff) || !java.util.Arrays.equals(ft.shape().asArray(), want)) {
                throw new IllegalStateException(
                    dir + ": feature point " + p.name() + "=" + p.tensor() + " came back with shape " + ft.shape()
                        + ", expected " + java.util.Arrays.toString(want));
              }
              ff.asRawTensor().data().asFloats().read(points.get(p.name()), start * p.size(), b * p.size());
            }
          }
        }
        if (!confirmed) {
          confirm(out, start * outputWidth, b * outputWidth);
        }
      }
    } finally {
      lock.readLock().unlock();
    }
    if (kind == OutputKind.PROBABILITIES) {
      if (withProbabilities && probs == null) {
        probs = out.clone();
      }
      for (int i = 0; i < out.length; i++) {
        // Log-probabilities: softmax(log p / T) is p sharpened or softened exactly as logits would be.
        out[i] = (float) Math.log(Math.max(out[i], PROBABILITY_FLOOR));
      }
    } else if (kind == OutputKind.BINARY_PROBABILITY) {
      float[] two = new float[n * 2];
      float[] twoProbs = withProbabilities ? new float[n * 2] : null;
      for (int i = 0; i < n; i++) {
        // In double: 1 - p loses nothing for the p a float32 sigmoid gives.
        double p = out[i];
        two[2 * i] = (float) Math.log(Math.max(1 - p, PROBABILITY_FLOOR));
        two[2 * i + 1] = (float) Math.log(Math.max(p, PROBABILITY_FLOOR));
        if (twoProbs != null) {
          twoProbs[2 * i] = (float) (1 - p);
          twoProbs[2 * i + 1] = (float) p;
        }
      }
      return new Outputs(two, twoProbs);
    }
    return new Outputs(out, probs);
  }

  private static org.tensorflow.Session.Runner fetch(org.tensorflow.Session.Runner r, List<String> tensors) {
    tensors.forEach(r::fetch);
    return r;
  }

  /** Frees the model. Waits for running calls; later calls throw {@link IllegalStateException}. */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        bundle.close();
      }
    } finally {
      lock.writeLock().unlock();
    }
  }
}
