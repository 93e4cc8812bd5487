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

  private final Path dir;
  private final SavedModelBundle bundle;
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
      List<String> classNames) {
    this.dir = dir;
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
        return new SavedModelClassifier(
            versionDir, bundle, sig, in.getKey(), output, kind, evidence, shape, k, options, findings,
            classNames(meta, k));
      } catch (RuntimeException e) {
        bundle.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
    }
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
    return run(features, n, true);
  }

  /**
   * Logits for {@code n} examples stored row-major in {@code features} ({@code n * exampleSize()} values),
   * {@code n x K} row-major. The core call; the other methods reshape around it.
   */
  public float[] logits(float[] features, int n) {
    return run(features, n, false).logits();
  }

  private Outputs run(float[] features, int n, boolean withProbabilities) {
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
            Result r = fetch(bundle.session().runner().feed(inputTensor, x), fetchProbabilities).run()) {
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

  private org.tensorflow.Session.Runner fetch(org.tensorflow.Session.Runner r, boolean probabilities) {
    r.fetch(outputTensor);
    return probabilities ? r.fetch(probabilitiesTensor) : r;
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
