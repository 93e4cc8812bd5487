package dev.tfkd.export;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * What a SavedModel directory holds, read from its files without loading it (so inspecting an untrusted model runs
 * nothing), and whether it follows TensorFlow Serving's conventions.
 *
 * <p>Errors (TensorFlow's loader or TensorFlow Serving 2.18 would not load or warm up the export): the model does not
 * sit in an integer version directory, no or an unreadable {@code saved_model.pb}, no meta graph whose tag set is
 * exactly {@code {serve}} (the one the loader takes, {@link ScannedSavedModel#select}), no {@code serving_default}
 * signature, a signature whose method is not one of Serving's or whose tensors are not in the graph, variables in the
 * graph but no {@code variables/variables.index} and data file, a damaged checkpoint ({@code VariablesCheck}: index,
 * shard files, every tensor's size and CRC32C), warm-up records Serving would fail on ({@code WarmupCheck}: each
 * decoded as a {@code PredictionLog} and checked against its signature; more than
 * {@value WarmupRecords#MAX_RECORDS}). Warnings: every {@link GraphSafety} finding of that meta graph (the ones a load
 * refuses), leftover temporary directories.
 *
 * @param dir the version directory inspected
 * @param tags the tag sets of the meta graphs
 * @param signatures the signatures of the {@code {serve}} meta graph, by key
 * @param variables the variables of the graph: name to {@code dtype shape}
 * @param variableValues the number of scalars in all variables (of known shape)
 * @param variableBytes their size in bytes
 * @param manifest the text of {@value Manifest#FILE}, or {@code null}
 * @param warmupRecords the number of warm-up records, or -1 when there is no warm-up file
 * @param errors convention violations
 * @param warnings things a serving model should not contain
 */
public record Inspection(
    Path dir,
    List<List<String>> tags,
    Map<String, SignatureDef> signatures,
    Map<String, String> variables,
    long variableValues,
    long variableBytes,
    String manifest,
    int warmupRecords,
    List<String> errors,
    List<String> warnings) {

  static final String REGRESS_METHOD = "tensorflow/serving/regress";

  static final Set<String> METHODS = Set.of(Signatures.PREDICT_METHOD, Signatures.CLASSIFY_METHOD, REGRESS_METHOD);

  /**
   * Inspects {@code path}: a version directory, or a model directory ({@code <root>/<name>}), whose every integer
   * version is checked and whose latest version is described.
   */
  public static List<Inspection> of(Path path) throws IOException {
    if (!Files.isDirectory(path)) {
      throw new IllegalArgumentException(path + ": no such directory");
    }
    if (Files.exists(path.resolve("saved_model.pb"))) {
      return List.of(version(path));
    }
    List<Path> versions = new ArrayList<>();
    List<String> leftovers = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(path, Files::isDirectory)) {
      for (Path d : dirs) {
        String name = d.getFileName().toString();
        if (name.matches("[0-9]{1,18}")) {
          versions.add(d);
        } else if (name.startsWith(".tmp-")) {
          leftovers.add(name);
        }
      }
    }
    if (versions.isEmpty()) {
      throw new IllegalArgumentException(
          path + ": neither a SavedModel (no saved_model.pb) nor a model directory (no integer version directory);"
              + " TensorFlow Serving needs <base>/<version>/saved_model.pb");
    }
    versions.sort((a, b) -> Long.compare(Long.parseLong(a.getFileName().toString()), Long.parseLong(b.getFileName().toString())));
    List<Inspection> out = new ArrayList<>();
    for (Path v : versions) {
      Inspection i = version(v);
      for (String l : leftovers) {
        i.warnings().add("temporary directory " + path.resolve(l) + " from an interrupted export, or one in progress (the next"
            + " export removes it once its process is gone)");
      }
      out.add(i);
    }
    return out;
  }

  /** Inspects one version directory. */
  static Inspection version(Path dir) throws IOException {
    List<String> errors = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    List<List<String>> tags = new ArrayList<>();
    Map<String, SignatureDef> signatures = new LinkedHashMap<>();
    Map<String, String> variables = new LinkedHashMap<>();
    long values = 0, bytes = 0;
    String name = dir.toAbsolutePath().normalize().getFileName().toString();
    if (!name.matches("[0-9]{1,18}")) {
      errors.add("the SavedModel is in directory '" + name + "', not an integer version directory: TensorFlow Serving"
          + " loads <base>/<version>/saved_model.pb and ignores other names");
    }
    Path pb = dir.resolve("saved_model.pb");
    SavedModel saved = null;
    if (!Files.isRegularFile(pb)) {
      errors.add("no saved_model.pb");
    } else {
      try (InputStream in = Files.newInputStream(pb)) {
        saved = SavedModel.parseFrom(in);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        errors.add("saved_model.pb is not a valid SavedModel protocol buffer: " + e.getMessage());
      }
    }
    if (saved != null) {
      for (MetaGraphDef m : saved.getMetaGraphsList()) {
        tags.add(List.copyOf(m.getMetaInfoDef().getTagsList()));
      }
      // The meta graph TensorFlow's loader (and tf-kd's) takes for {serve}: tag set equal, not merely containing.
      MetaGraphDef serve = ScannedSavedModel.select(saved, Set.of(ServingExporter.SERVE_TAG)).orElse(null);
      if (serve == null) {
        errors.add("no meta graph tagged 'serve' alone (tag set exactly [serve], the one TensorFlow Serving and tf-kd"
            + " load; tags: " + tags + ")");
      } else {
        signatures.putAll(serve.getSignatureDefMap());
        Set<String> nodes = new HashSet<>();
        for (NodeDef n : serve.getGraphDef().getNodeList()) {
          nodes.add(n.getName());
          if (n.getOp().equals("VariableV2") || n.getOp().equals("VarHandleOp") || n.getOp().equals("Variable")) {
            AttrValue shape = n.getAttrOrDefault("shape", AttrValue.getDefaultInstance());
            DataType type = n.getAttrOrDefault("dtype", AttrValue.getDefaultInstance()).getType();
            variables.put(n.getName(), type + " " + shape(shape.getShape()));
            long count = count(shape.getShape());
            if (count >= 0) {
              values += count;
              bytes += count * size(type);
            }
          }
        }
        if (!signatures.containsKey("serving_default")) {
          errors.add("no 'serving_default' signature (has " + signatures.keySet() + ")");
        }
        for (var e : signatures.entrySet()) {
          String method = e.getValue().getMethodName();
          // The loader's own init signature is not served.
          if (e.getKey().equals("__saved_model_init_op")) {
            continue;
          }
          if (!METHODS.contains(method)) {
            errors.add("signature '" + e.getKey() + "' has method name '" + method + "'; TensorFlow Serving expects one of "
                + METHODS);
          }
          checkMethod(e.getKey(), e.getValue(), errors);
          checkTensors(e.getKey(), e.getValue().getInputsMap(), nodes, errors);
          checkTensors(e.getKey(), e.getValue().getOutputsMap(), nodes, errors);
        }
        if (!variables.isEmpty()) {
          if (!Files.isRegularFile(dir.resolve(VariablesCheck.INDEX))) {
            errors.add("the graph has " + variables.size() + " variables but there is no " + VariablesCheck.INDEX);
          } else if (!hasDataFile(dir.resolve("variables"))) {
            errors.add("no variables/variables.data-* file");
          }
        }
        // What the restore at load time reads: the index, the shards it names, every tensor's bytes and CRC32C.
        errors.addAll(VariablesCheck.check(dir));
        for (GraphSafety.Finding f : GraphSafety.scan(serve)) {
          warnings.add("unsafe for serving: " + f.describe());
        }
      }
    }
    Path manifestFile = dir.resolve(Manifest.FILE);
    String manifest = Files.isRegularFile(manifestFile) ? Files.readString(manifestFile) : null;
    int warmup = -1;
    Path warmupFile = dir.resolve(WarmupRecords.FILE);
    if (Files.isRegularFile(warmupFile)) {
      // Serving replays every record at load and refuses the version on the first one that fails.
      warmup = WarmupCheck.check(Files.readAllBytes(warmupFile), signatures, errors);
    } else if (Files.exists(warmupFile)) {
      errors.add(WarmupRecords.FILE + " is not a regular file");
    }
    return new Inspection(dir, tags, signatures, variables, values, bytes, manifest, warmup, errors, warnings);
  }

  /** The input and output keys and dtypes TensorFlow Serving's Predict, Classify and Regress APIs require. */
  private static void checkMethod(String key, SignatureDef sig, List<String> errors) {
    String where = "signature '" + key + "' (" + sig.getMethodName() + ")";
    switch (sig.getMethodName()) {
      case "tensorflow/serving/predict" -> {
        if (sig.getInputsCount() == 0 || sig.getOutputsCount() == 0) {
          errors.add(where + " needs at least one input and one output");
        }
      }
      case "tensorflow/serving/classify" -> {
        expectStringInput(where, sig, errors);
        if (sig.getOutputsCount() == 0 || !Set.of("classes", "scores").containsAll(sig.getOutputsMap().keySet())) {
          errors.add(where + " must have outputs 'classes' and/or 'scores' only, has " + sig.getOutputsMap().keySet());
        }
        expectDtype(where, sig.getOutputsMap().get("classes"), "classes", DataType.DT_STRING, errors);
        expectDtype(where, sig.getOutputsMap().get("scores"), "scores", DataType.DT_FLOAT, errors);
      }
      case "tensorflow/serving/regress" -> {
        expectStringInput(where, sig, errors);
        if (!sig.getOutputsMap().keySet().equals(Set.of("outputs"))) {
          errors.add(where + " must have the one output 'outputs', has " + sig.getOutputsMap().keySet());
        }
        expectDtype(where, sig.getOutputsMap().get("outputs"), "outputs", DataType.DT_FLOAT, errors);
      }
      default -> {
        // Unknown method names are reported by the caller.
      }
    }
  }

  private static void expectStringInput(String where, SignatureDef sig, List<String> errors) {
    if (!sig.getInputsMap().keySet().equals(Set.of("inputs"))) {
      errors.add(where + " must have the one input 'inputs' (serialized tf.Example), has " + sig.getInputsMap().keySet());
    }
    expectDtype(where, sig.getInputsMap().get("inputs"), "inputs", DataType.DT_STRING, errors);
  }

  private static void expectDtype(String where, TensorInfo t, String name, DataType want, List<String> errors) {
    if (t != null && t.getDtype() != want) {
      errors.add(where + ": '" + name + "' is " + t.getDtype() + ", TensorFlow Serving requires " + want);
    }
  }

  private static void checkTensors(String sig, Map<String, TensorInfo> tensors, Set<String> nodes, List<String> errors) {
    for (var t : tensors.entrySet()) {
      String node = GraphSafety.nodeName(t.getValue().getName());
      if (t.getValue().hasName() || !t.getValue().getName().isEmpty()) {
        if (!nodes.contains(node)) {
          errors.add("signature '" + sig + "' names tensor '" + t.getValue().getName() + "' for '" + t.getKey()
              + "', which is not in the graph");
        }
      }
    }
  }

  private static boolean hasDataFile(Path variables) throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(variables, "variables.data-*")) {
      return s.iterator().hasNext();
    }
  }

  /** {@code [-1, 20]} style; {@code ?} for an unknown rank. */
  public static String shape(TensorShapeProto s) {
    if (s.getUnknownRank()) {
      return "?";
    }
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < s.getDimCount(); i++) {
      b.append(i == 0 ? "" : ", ").append(s.getDim(i).getSize());
    }
    return b.append(']').toString();
  }

  private static long count(TensorShapeProto s) {
    if (s.getUnknownRank()) {
      return -1;
    }
    long c = 1;
    for (TensorShapeProto.Dim d : s.getDimList()) {
      if (d.getSize() < 0) {
        return -1;
      }
      c *= d.getSize();
    }
    return c;
  }

  private static int size(DataType t) {
    return switch (t) {
      case DT_DOUBLE, DT_INT64, DT_UINT64, DT_COMPLEX64 -> 8;
      case DT_HALF, DT_BFLOAT16, DT_INT16, DT_UINT16 -> 2;
      case DT_INT8, DT_UINT8, DT_BOOL -> 1;
      case DT_COMPLEX128 -> 16;
      default -> 4;
    };
  }

  /** Whether nothing breaks Serving's conventions. */
  public boolean ok() {
    return errors.isEmpty();
  }
}
