package dev.tfkd.export;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import dev.tfkd.io.TfRecord;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;

/**
 * Writes an {@link InferenceModel} as a SavedModel in TensorFlow Serving's layout: {@code
 * <root>/<name>/<version>/saved_model.pb} plus {@code variables/}, tag {@code serve}, signature {@code
 * serving_default} with method {@code tensorflow/serving/predict}.
 *
 * <p>Two signatures: {@code serving_default} (predict) and {@code classify} (see {@link InferenceModel}). With
 * {@link ExportOptions}, the version directory also holds the provenance manifest ({@value Manifest#FILE}) and
 * TensorFlow Serving warm-up records ({@value WarmupRecords#FILE}): predict and classify requests for every warm-up
 * batch size.
 *
 * <p>The files are reproducible: {@code saved_model.pb} is rewritten in deterministic serialization with the meta
 * graph's versions and op list filled in as TensorFlow's writer fills them, and {@value Fingerprints#FILE} is written
 * beside it, so identical models export identical bytes.
 *
 * <p>Publishing is atomic: everything is written into a hidden temporary directory beside the version directory
 * ({@code .tmp-<version>-<host>-<pid>-<uuid>}, a name Serving ignores because it is not an integer), every file and
 * directory is flushed to disk, and the directory is then renamed into place and its parent flushed, so a directory
 * watcher (TensorFlow Serving's) never sees a half-written version. On failure the temporary directory is removed; a
 * process killed mid-export leaves at most such a temporary directory, never a version directory, and the next
 * export into the same model directory removes it (only temporary directories of this host whose process is gone,
 * so a concurrent exporter, here or on another host sharing the file system, is never disturbed).
 */
public final class ServingExporter {
  private ServingExporter() {}

  /** The tag set TensorFlow Serving loads. */
  public static final String SERVE_TAG = "serve";

  /**
   * Exports {@code model} as the next version of {@code <root>/<name>}.
   *
   * @return the published version directory
   */
  public static Path exportNextVersion(InferenceModel model, Path root, String name) throws IOException {
    return exportNextVersion(model, root, name, ExportOptions.NONE);
  }

  /**
   * Exports {@code model} as the next version of {@code <root>/<name>}, with a manifest, warm-up records and the
   * other files of {@code options}.
   *
   * <p>Concurrent exporters into one model directory (threads, processes, hosts sharing the file system) each get
   * their own version: the number is claimed by creating {@code .claim-<version>} with an atomic {@code mkdir},
   * which exactly one exporter wins; the others move on to the next number. The claim is removed once the version
   * is published (or the export failed), so the number of a failed export is taken again by the next one.
   *
   * <p>Unless {@link ExportOptions#allowSignatureChange()}, the new version's signatures (keys, methods, input and
   * output names, dtypes, shapes) must equal those of the version below it: clients of a model name expect one
   * interface across its versions.
   *
   * @throws SignatureChangeException when the signatures differ from the previous version's
   */
  public static Path exportNextVersion(InferenceModel model, Path root, String name, ExportOptions options)
      throws IOException {
    if (name.isEmpty() || name.contains("/") || name.startsWith(".")) {
      throw new IllegalArgumentException("model name must be a plain directory name, got '" + name + "'");
    }
    Path base = root.resolve(name);
    Files.createDirectories(base);
    removeStaleTemporaries(base);
    long version = latestVersion(base).orElse(0L) + 1;
    while (true) {
      Path claim = base.resolve(CLAIM_PREFIX + version);
      try {
        // mkdir is atomic on every file system (NFS included): exactly one exporter creates it.
        Files.createDirectory(claim);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        version++;
        continue;
      }
      try {
        Files.writeString(claim.resolve(CLAIM_OWNER), HOST + " " + ProcessHandle.current().pid() + "\n");
        Path versionDir = base.resolve(Long.toString(version));
        // The claim was free, but an exporter may have published this number and released its claim between our
        // listing and our mkdir: a published version is never replaced.
        if (Files.exists(versionDir)) {
          version = Math.max(version, latestVersion(base).orElse(version)) + 1;
          continue;
        }
        return export(model, versionDir, options);
      } finally {
        AtomicFiles.deleteRecursively(claim);
      }
    }
  }

  /** The prefix of the directory that claims a version number while it is exported. */
  static final String CLAIM_PREFIX = ".claim-";

  /** The file in a claim naming its owner: {@code <host> <pid>}. */
  static final String CLAIM_OWNER = "owner";

  /**
   * Thrown when a new version's signatures differ from the previous version's and the options do not allow it.
   * Bad input (an {@link IllegalArgumentException}): the command line exits with 2.
   */
  public static final class SignatureChangeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    SignatureChangeException(String message) {
      super(message);
    }
  }

  /**
   * Refuses {@code signatures} for a new version of the model in {@code base} if they differ from those of its
   * latest version below {@code version} (if any).
   *
   * @param base the model directory
   * @param version the number about to be published, or {@link Long#MAX_VALUE} to compare with the latest
   * @param signatures the new version's signatures by key
   * @throws SignatureChangeException naming the first difference
   * @throws IOException if the previous version cannot be read
   */
  public static void requireSameSignatures(Path base, long version, Map<String, SignatureDef> signatures)
      throws IOException {
    OptionalLong previous = latestVersionBelow(base, version);
    if (previous.isEmpty()) {
      return;
    }
    Path prev = base.resolve(Long.toString(previous.getAsLong()));
    Map<String, SignatureDef> old;
    try {
      old = servingSignatures(prev);
    } catch (IOException | IllegalArgumentException e) {
      // A version that cannot be read says nothing about the interface; inspect --check reports it.
      return;
    }
    String diff = Signatures.difference(old, signatures);
    if (diff != null) {
      throw new SignatureChangeException(
          base + ": the new version's signatures differ from version " + previous.getAsLong() + "'s (" + diff
              + "); export under another model name, or allow the change (--force)");
    }
  }

  /** The signatures of the {@code {serve}} meta graph of the SavedModel in {@code dir}. */
  static Map<String, SignatureDef> servingSignatures(Path dir) throws IOException {
    SavedModel saved = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    return ScannedSavedModel.select(saved, java.util.Set.of(SERVE_TAG))
        .map(MetaGraphDef::getSignatureDefMap)
        .orElse(Map.of());
  }

  /** The highest integer version directory under {@code base} below {@code limit}, if any. */
  static OptionalLong latestVersionBelow(Path base, long limit) throws IOException {
    if (!Files.isDirectory(base)) {
      return OptionalLong.empty();
    }
    long best = -1;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, Files::isDirectory)) {
      for (Path d : dirs) {
        String s = d.getFileName().toString();
        if (s.matches("[0-9]{1,18}") && Long.parseLong(s) < limit) {
          best = Math.max(best, Long.parseLong(s));
        }
      }
    }
    return best < 0 ? OptionalLong.empty() : OptionalLong.of(best);
  }

  /** Exports {@code model} to exactly {@code versionDir}, which must not exist yet. */
  public static Path export(InferenceModel model, Path versionDir) throws IOException {
    return export(model, versionDir, ExportOptions.NONE);
  }

  /** Called with the temporary directory just before it is renamed into place; tests use it to interrupt. */
  interface BeforePublish {
    void accept(Path tmp) throws IOException;
  }

  static volatile BeforePublish beforePublish = tmp -> {};

  /** Exports {@code model} to exactly {@code versionDir}, which must not exist yet, with {@code options}. */
  public static Path export(InferenceModel model, Path versionDir, ExportOptions options) throws IOException {
    if (Files.exists(versionDir)) {
      throw new IOException("export target already exists: " + versionDir);
    }
    Path parent = versionDir.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    removeStaleTemporaries(parent);
    for (String f : options.files().keySet()) {
      Path p = Path.of(f).normalize();
      if (p.isAbsolute() || p.startsWith("..") || f.isEmpty() || p.toString().equals("saved_model.pb")
          || p.startsWith("variables")) {
        throw new IllegalArgumentException("export file '" + f + "' must be a relative path inside the version,"
            + " outside saved_model.pb and variables/");
      }
    }
    Path tmp =
        parent.resolve(".tmp-" + versionDir.getFileName() + "-" + HOST + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID());
    try {
      List<SessionFunction> functions = new ArrayList<>(List.of(
          SessionFunction.create(Signatures.predict(model), model.session()),
          SessionFunction.create(Signatures.classify(model), model.session())));
      if (options.features()) {
        functions.add(SessionFunction.create(Signatures.features(model), model.session()));
      }
      SavedModelBundle.exporter(tmp.toString())
          .withTags(SERVE_TAG)
          .withFunctions(functions.toArray(SessionFunction[]::new))
          .export();
      finishSavedModel(tmp);
      if (options.manifest() != null) {
        Manifest m = options.manifest();
        m.put("model", modelSection(model, options.features()));
        writeFile(tmp.resolve(Manifest.FILE), m.toJson().getBytes(StandardCharsets.UTF_8));
      }
      if (options.warmupRequests() > 0) {
        writeWarmup(tmp.resolve(WarmupRecords.FILE), model, options);
      }
      for (Map.Entry<String, byte[]> f : options.files().entrySet()) {
        // Everything goes in before the rename: a watcher never sees a version whose files arrive later.
        writeFile(tmp.resolve(f.getKey()), f.getValue());
      }
      if (!options.allowSignatureChange() && versionDir.getFileName().toString().matches("[0-9]{1,18}")) {
        requireSameSignatures(
            parent, Long.parseLong(versionDir.getFileName().toString()), servingSignatures(tmp));
      }
      beforePublish.accept(tmp);
      if (Files.exists(versionDir)) {
        // Another exporter published this version meanwhile; renaming onto it would merge or fail obscurely.
        throw new IOException("export target appeared while exporting: " + versionDir);
      }
      AtomicFiles.publishDirectory(tmp, versionDir);
      return versionDir;
    } finally {
      AtomicFiles.deleteRecursively(tmp);
    }
  }

  /** This host's name, reduced to characters safe in a file name. */
  static final String HOST = hostName();

  private static String hostName() {
    String h;
    try {
      h = java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      h = "localhost";
    }
    h = h.replaceAll("[^A-Za-z0-9.]", "_");
    return h.isEmpty() ? "localhost" : h;
  }

  /**
   * Deletes {@code .tmp-<version>-<host>-<pid>-<uuid>} directories and {@code .claim-<version>} claims in {@code
   * dir} left by exports on this host whose process no longer runs (killed mid-export). Others are left alone: they
   * may be exports in progress.
   */
  static void removeStaleTemporaries(Path dir) throws IOException {
    try (DirectoryStream<Path> claims = Files.newDirectoryStream(dir, CLAIM_PREFIX + "*")) {
      for (Path c : claims) {
        // A claim without its owner file is being made right now: left alone.
        Path owner = c.resolve(CLAIM_OWNER);
        String[] o;
        try {
          o = Files.readString(owner).strip().split(" ");
        } catch (IOException e) {
          continue;
        }
        if (o.length == 2 && o[0].equals(HOST) && o[1].matches("[0-9]{1,18}")
            && ProcessHandle.of(Long.parseLong(o[1])).isEmpty()) {
          AtomicFiles.deleteRecursively(c);
        }
      }
    }
    java.util.regex.Pattern p = java.util.regex.Pattern.compile("\\.tmp-[0-9]+-(.+)-([0-9]+)-[0-9a-f-]{36}");
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(dir, ".tmp-*")) {
      for (Path d : dirs) {
        java.util.regex.Matcher m = p.matcher(d.getFileName().toString());
        if (m.matches() && m.group(1).equals(HOST) && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
          AtomicFiles.deleteRecursively(d);
        }
      }
    }
  }

  /** The manifest's {@code model} section: architecture, input, classes, preprocessing, signatures. */
  static Map<String, Object> modelSection(InferenceModel model) {
    return modelSection(model, false);
  }

  /** As {@link #modelSection(InferenceModel)}; with {@code features}, the feature signature and its points' shapes. */
  static Map<String, Object> modelSection(InferenceModel model, boolean features) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("architecture", model.architecture().name());
    m.put("input_shape", model.architecture().inputShape());
    m.put("classes", model.architecture().numClasses());
    m.put("class_labels", model.classLabels());
    Map<String, Object> pre = new LinkedHashMap<>();
    dev.tfkd.data.Normalization norm = model.options().normalization();
    if (norm == null) {
      pre.put("inputs", "normalized");
      pre.put("note", "the graph applies no preprocessing: send inputs as the model was trained on them");
    } else {
      pre.put("inputs", "raw");
      pre.put("note", "the graph computes (inputs - mean) / std before the model: send raw inputs");
      pre.put("mean", norm.mean());
      pre.put("std", norm.std());
    }
    m.put("preprocessing", pre);
    Map<String, Object> sigs = new LinkedHashMap<>();
    sigs.put("serving_default", Signatures.PREDICT_METHOD + ": inputs float32 -> logits, probabilities, classes (int64)");
    sigs.put(
        Signatures.CLASSIFY_KEY,
        Signatures.CLASSIFY_METHOD + ": inputs = serialized tf.Example with float feature '"
            + Signatures.EXAMPLE_FEATURE + "' (the flattened example) -> classes (string), scores");
    if (features) {
      sigs.put(
          Signatures.FEATURES_KEY,
          Signatures.PREDICT_METHOD + ": inputs float32 -> the feature points " + String.join(", ", model.features().keySet()));
    }
    m.put("signatures", sigs);
    if (features) {
      // Shapes per example, as the graph computes them (NHWC), so a reader knows the points without loading.
      Map<String, Object> points = new LinkedHashMap<>();
      model.features().forEach((name, t) -> {
        long[] dims = t.shape().asArray();
        points.put(name, java.util.Arrays.copyOfRange(dims, 1, dims.length));
      });
      m.put("feature_points", points);
    }
    return m;
  }

  /**
   * For every batch size of {@code options}: its requests to {@code serving_default} (a float tensor), then as many
   * to {@code classify} (tf.Examples) with the same examples, taken in order from the warm-up data, wrapping around.
   */
  private static void writeWarmup(Path file, InferenceModel model, ExportOptions options) throws IOException {
    Dataset data = options.warmupData();
    long[] shape = model.architecture().inputShape();
    int e = data.exampleSize();
    long expected = 1;
    for (long d : shape) {
      expected *= d;
    }
    if (e != expected) {
      throw new IllegalArgumentException(
          "warm-up data " + data.name() + " has examples of " + e + " values; the model takes " + expected);
    }
    Files.createDirectories(file.getParent());
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW)) {
      int next = 0;
      for (int size : options.warmupBatchSizes()) {
        List<float[]> batches = new ArrayList<>();
        for (int r = 0; r < options.warmupRequests(); r++) {
          float[] batch = new float[size * e];
          for (int i = 0; i < size; i++) {
            System.arraycopy(data.features(), next * e, batch, i * e, e);
            next = (next + 1) % data.size();
          }
          batches.add(batch);
        }
        WarmupRecords.write(out, Signatures.PREDICT_KEY, Signatures.INPUTS, shape, batches);
        for (float[] batch : batches) {
          TfRecord.write(out, WarmupRecords.classify(Signatures.CLASSIFY_KEY, Signatures.EXAMPLE_FEATURE, batch, e));
        }
      }
    }
  }

  /**
   * Makes the SavedModel TensorFlow Java wrote reproducible and complete as TensorFlow's own writer makes it: the
   * meta graph's {@code meta_info_def} gets {@code tensorflow_version}, {@code tensorflow_git_version} and the
   * {@code stripped_op_list} (the definitions of the ops the graph uses, by name, without documentation);
   * {@code saved_model.pb} is rewritten in deterministic serialization (map entries sorted by key, where TensorFlow
   * Java leaves them in the native library's hash order, which changes from run to run); and {@value
   * Fingerprints#FILE} is written beside it.
   */
  static void finishSavedModel(Path dir) throws IOException {
    Path pb = dir.resolve("saved_model.pb");
    SavedModel.Builder saved = SavedModel.parseFrom(Files.readAllBytes(pb)).toBuilder();
    for (MetaGraphDef.Builder meta : saved.getMetaGraphsBuilderList()) {
      meta.getMetaInfoDefBuilder()
          .setTensorflowVersion(TensorFlow.version())
          // TensorFlow's writer records its build's git stamp; TensorFlow Java's native libraries carry none, and
          // "unknown" is what TensorFlow writes then.
          .setTensorflowGitVersion("unknown")
          .setStrippedOpList(strippedOpList(meta.getGraphDef()));
    }
    Files.write(pb, Fingerprints.deterministic(saved.build()));
    Fingerprints.write(dir);
  }

  /** The registered definitions of the ops {@code graph} uses (its nodes and functions), sorted by name. */
  static OpList strippedOpList(GraphDef graph) {
    java.util.Set<String> used = new java.util.TreeSet<>();
    graph.getNodeList().forEach(n -> used.add(n.getOp()));
    for (FunctionDef f : graph.getLibrary().getFunctionList()) {
      f.getNodeDefList().forEach(n -> used.add(n.getOp()));
    }
    // Calls of library functions are nodes whose op is a function, not a registered op.
    graph.getLibrary().getFunctionList().forEach(f -> used.remove(f.getSignature().getName()));
    Map<String, OpDef> registered = registeredOps();
    OpList.Builder out = OpList.newBuilder();
    for (String op : used) {
      OpDef def = registered.get(op);
      if (def != null) {
        OpDef.Builder b = def.toBuilder().clearSummary().clearDescription();
        b.getInputArgBuilderList().forEach(a -> a.clearDescription());
        b.getOutputArgBuilderList().forEach(a -> a.clearDescription());
        b.getAttrBuilderList().forEach(a -> a.clearDescription());
        out.addOp(b);
      }
    }
    return out.build();
  }

  private static volatile Map<String, OpDef> registeredOps;

  private static Map<String, OpDef> registeredOps() {
    Map<String, OpDef> m = registeredOps;
    if (m == null) {
      m = new java.util.HashMap<>();
      for (OpDef d : TensorFlow.registeredOpList().getOpList()) {
        m.put(d.getName(), d);
      }
      registeredOps = m;
    }
    return m;
  }

  /** Writes {@code bytes} to a new file {@code file}, creating parent directories. */
  static void writeFile(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  /** The highest integer version directory under {@code base}, if any. Non-numeric names are ignored. */
  public static OptionalLong latestVersion(Path base) throws IOException {
    if (!Files.isDirectory(base)) {
      return OptionalLong.empty();
    }
    long best = -1;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, Files::isDirectory)) {
      for (Path d : dirs) {
        String s = d.getFileName().toString();
        if (s.matches("[0-9]{1,18}")) {
          best = Math.max(best, Long.parseLong(s));
        }
      }
    }
    return best < 0 ? OptionalLong.empty() : OptionalLong.of(best);
  }
}
