package dev.tfkd.export;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SaverDef;

/**
 * Scans a SavedModel's graph for ops that do more than compute: loading a SavedModel runs its graph (the restore
 * op, the init op, then whatever a signature touches), and a graph can read, write and list files, run Python, or
 * talk to the network. tf-kd loads foreign SavedModels (teachers, {@code tfkd predict}) only if every node of the
 * meta graph, and every node of every function in its library, runs an op on an allow-list of pure computation.
 *
 * <p>The saver's own subgraph (named by the meta graph's {@code SaverDef}) is the exception: checkpoint ops
 * ({@code SaveV2}, {@code MergeV2Checkpoints}, ...) are allowed where they feed the saver's save tensor and are
 * not run by its restore op, and {@code RestoreV2} is allowed where it feeds the restore op. The same holds for the
 * library functions those subgraphs call (TensorFlow 2 savers are function calls): save functions may checkpoint,
 * restore functions (run at load) may only restore. Any other occurrence of a
 * checkpoint op, and every op off the list anywhere, is reported with the node's name.
 */
public final class GraphSafety {
  private GraphSafety() {}

  /** Ops that only compute on tensors (plus variables and control flow, whose bodies are scanned too). */
  static final Set<String> PURE =
      Set.of(
          // Graph plumbing and constants.
          "Const", "Placeholder", "PlaceholderWithDefault", "PlaceholderV2", "Identity", "IdentityN", "NoOp",
          "Snapshot", "StopGradient", "PreventGradient", "CheckNumerics", "EnsureShape", "Assert",
          // Variables (reading and assigning tensors in memory).
          "VariableV2", "Variable", "VarHandleOp", "ReadVariableOp", "AssignVariableOp", "Assign", "AssignAdd",
          "AssignSub", "AssignAddVariableOp", "AssignSubVariableOp", "VarIsInitializedOp", "IsVariableInitialized",
          "DestroyResourceOp",
          // Control flow and function calls: the called functions are scanned as well.
          "PartitionedCall", "StatefulPartitionedCall", "If", "StatelessIf", "While", "StatelessWhile", "Case",
          "StatelessCase", "Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond", "RefSwitch",
          "RefEnter", "RefIdentity",
          // Arithmetic and math.
          "Add", "AddV2", "AddN", "Sub", "Mul", "MulNoNan", "Div", "RealDiv", "DivNoNan", "FloorDiv", "FloorMod",
          "TruncateDiv", "TruncateMod", "Mod", "Neg", "Abs", "Sign", "Reciprocal", "Inv", "Square",
          "SquaredDifference", "Sqrt", "Rsqrt", "Pow", "Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tan",
          "Tanh", "Sigmoid", "Erf", "Erfc", "Floor", "Ceil", "Round", "Rint", "Maximum", "Minimum",
          "ClipByValue", "IsNan", "IsInf", "IsFinite", "Xlogy", "Xdivy", "BiasAdd", "BiasAddV1", "MatMul",
          "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum", "MatrixBandPart", "Cumsum", "Cumprod",
          "L2Loss", "Cast", "Bitcast",
          // Reductions and comparisons.
          "Sum", "Mean", "Max", "Min", "Prod", "All", "Any", "ArgMax", "ArgMin", "Equal", "NotEqual", "Less",
          "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "Select", "SelectV2",
          "TopKV2", "OneHot",
          // Neural-network layers.
          "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Softplus", "Softsign", "Softmax", "LogSoftmax",
          "Conv2D", "Conv1D", "Conv3D", "DepthwiseConv2dNative", "MaxPool", "MaxPoolV2", "MaxPool3D", "AvgPool",
          "AvgPool3D", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "LRN", "ResizeBilinear",
          "ResizeNearestNeighbor", "ResizeBicubic",
          // Shapes and layout.
          "Reshape", "Squeeze", "ExpandDims", "Transpose", "ConcatV2", "Concat", "Pack", "Unpack", "Split",
          "SplitV", "Slice", "StridedSlice", "Gather", "GatherV2", "GatherNd", "Pad", "PadV2", "MirrorPad",
          "Tile", "Shape", "ShapeN", "Size", "Rank", "Fill", "ZerosLike", "OnesLike", "Range", "BroadcastTo",
          "BroadcastArgs", "BroadcastGradientArgs", "Where", "Reverse", "ReverseV2", "ScatterNd", "DynamicStitch",
          // Parsing in-memory strings (the classify signature's tf.Example input).
          "ParseExample", "ParseExampleV2", "ParseSingleExample", "StringJoin", "StringFormat", "AsString",
          "StringToNumber", "StaticRegexFullMatch",
          // TensorFlow 2 variable bookkeeping in restore functions.
          "DisableCopyOnRead");

  /** Checkpoint ops, allowed only inside the saver's own subgraph. */
  static final Set<String> SAVE_OPS =
      Set.of("SaveV2", "Save", "SaveSlices", "MergeV2Checkpoints", "ShardedFilename", "ShardedFilespec");

  static final Set<String> RESTORE_OPS = Set.of("RestoreV2", "Restore", "RestoreSlice");

  /** Ops a serving model must not run, named in messages as such (all are off the allow-list anyway). */
  static final Set<String> KNOWN_IO =
      Set.of(
          "WriteFile", "ReadFile", "MatchingFiles", "PyFunc", "PyFuncStateless", "EagerPyFunc", "PrintV2", "Print",
          "ImmutableConst", "TFRecordReader", "TFRecordReaderV2", "FixedLengthRecordDatasetV2", "TFRecordDataset",
          "WholeFileReader", "WholeFileReaderV2", "DebugIdentity", "WriteSummary", "WriteScalarSummary",
          "CreateSummaryFileWriter", "SaveV2", "RestoreV2");

  /**
   * One node running an op outside the allow-list.
   *
   * @param node the node's name
   * @param op the op it runs
   * @param function the library function holding the node, or empty for the main graph
   */
  public record Finding(String node, String op, String function) {
    /** {@code op WriteFile at node 'evil'} (plus the function when inside one). */
    public String describe() {
      return "op " + op + " at node '" + node + "'" + (function.isEmpty() ? "" : " in function '" + function + "'")
          + (KNOWN_IO.contains(op) ? " (file system or other I/O)" : "");
    }
  }

  /** Reads {@code dir/saved_model.pb} and scans the meta graph tagged {@code tag}. */
  public static List<Finding> scan(Path dir, String tag) throws IOException {
    return scan(metaGraph(dir, tag));
  }

  /**
   * Throws {@link IllegalArgumentException} naming the first unsafe op of the {@code tag} meta graph of {@code dir},
   * unless {@code allowUnsafeOps}; then it returns the findings so the caller may warn.
   */
  public static List<Finding> check(Path dir, String tag, boolean allowUnsafeOps) throws IOException {
    return check(metaGraph(dir, tag), dir, allowUnsafeOps);
  }

  /** As {@link #check(Path, String, boolean)} for a meta graph already read from {@code dir}. */
  public static List<Finding> check(MetaGraphDef meta, Path dir, boolean allowUnsafeOps) {
    List<Finding> findings = scan(meta);
    if (!findings.isEmpty() && !allowUnsafeOps) {
      throw new IllegalArgumentException(
          dir + ": refusing to load a SavedModel whose graph runs " + findings.get(0).describe()
              + (findings.size() > 1 ? " and " + (findings.size() - 1) + " more unsafe node(s)" : "")
              + "; loading runs the graph (pass --allow-unsafe-ops if you trust it)");
    }
    return findings;
  }

  /** The meta graph of {@code dir/saved_model.pb} with tag {@code tag}. */
  public static MetaGraphDef metaGraph(Path dir, String tag) throws IOException {
    Path pb = dir.resolve("saved_model.pb");
    if (!Files.isRegularFile(pb)) {
      throw new NoSuchFileException(pb.toString(), null, "not a SavedModel: no saved_model.pb");
    }
    SavedModel saved;
    try (InputStream in = Files.newInputStream(pb)) {
      saved = SavedModel.parseFrom(in);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(pb + ": not a valid SavedModel protocol buffer (" + e.getMessage() + ")");
    }
    for (MetaGraphDef m : saved.getMetaGraphsList()) {
      if (m.getMetaInfoDef().getTagsList().contains(tag)) {
        return m;
      }
    }
    throw new IllegalArgumentException(pb + ": no meta graph with tag '" + tag + "'");
  }

  /** Every node of {@code meta} (main graph and function library) that runs an op outside the allow-list. */
  public static List<Finding> scan(MetaGraphDef meta) {
    GraphDef graph = meta.getGraphDef();
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : graph.getNodeList()) {
      byName.put(n.getName(), n);
    }
    SaverDef saver = meta.hasSaverDef() ? meta.getSaverDef() : SaverDef.getDefaultInstance();
    Set<String> restoreSide = ancestors(byName, List.of(saver.getRestoreOpName()));
    Set<String> saveSide = ancestors(byName, List.of(saver.getSaveTensorName()));
    saveSide.removeAll(restoreSide);
    Map<String, FunctionDef> functions = new HashMap<>();
    for (FunctionDef f : graph.getLibrary().getFunctionList()) {
      functions.put(f.getSignature().getName(), f);
    }
    // Functions the save side calls may checkpoint; functions the restore side calls (run at load) may only restore.
    Set<String> saveFunctions = new HashSet<>();
    Set<String> restoreFunctions = new HashSet<>();
    for (String name : saveSide) {
      calledFunctions(byName.get(name), functions, saveFunctions);
    }
    for (String name : restoreSide) {
      calledFunctions(byName.get(name), functions, restoreFunctions);
    }

    List<Finding> findings = new ArrayList<>();
    for (NodeDef n : graph.getNodeList()) {
      String op = n.getOp();
      boolean ok =
          PURE.contains(op)
              || SAVE_OPS.contains(op) && saveSide.contains(n.getName())
              || RESTORE_OPS.contains(op) && restoreSide.contains(n.getName());
      if (!ok) {
        findings.add(new Finding(n.getName(), op, ""));
      }
    }
    for (FunctionDef f : graph.getLibrary().getFunctionList()) {
      String fname = f.getSignature().getName();
      boolean restoreFn = restoreFunctions.contains(fname);
      boolean saveFn = saveFunctions.contains(fname) && !restoreFn;
      for (NodeDef n : f.getNodeDefList()) {
        String op = n.getOp();
        boolean ok =
            PURE.contains(op)
                || functions.containsKey(op) // a direct call of a library function, scanned on its own
                || saveFn && SAVE_OPS.contains(op)
                || restoreFn && RESTORE_OPS.contains(op);
        if (!ok) {
          findings.add(new Finding(n.getName(), op, fname));
        }
      }
    }
    return findings;
  }

  /** Node names that {@code roots} (tensor or node names) depend on, data and control inputs, roots included. */
  static Set<String> ancestors(Map<String, NodeDef> byName, List<String> roots) {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    for (String r : roots) {
      if (!r.isEmpty()) {
        todo.add(nodeName(r));
      }
    }
    while (!todo.isEmpty()) {
      String name = todo.pop();
      NodeDef n = byName.get(name);
      if (n == null || !seen.add(name)) {
        continue;
      }
      for (String in : n.getInputList()) {
        todo.add(nodeName(in));
      }
    }
    return seen;
  }

  /** {@code ^a}, {@code a:1} and {@code a} all name node {@code a}. */
  static String nodeName(String tensorOrNode) {
    String s = tensorOrNode.startsWith("^") ? tensorOrNode.substring(1) : tensorOrNode;
    int colon = s.indexOf(':');
    return colon < 0 ? s : s.substring(0, colon);
  }

  /** Adds the library functions {@code node} calls (through {@code f} attributes or its op), transitively. */
  private static void calledFunctions(NodeDef node, Map<String, FunctionDef> functions, Set<String> out) {
    if (node == null) {
      return;
    }
    Deque<String> todo = new ArrayDeque<>();
    if (functions.containsKey(node.getOp())) {
      todo.add(node.getOp());
    }
    node.getAttrMap().values().forEach(v -> {
      if (v.hasFunc()) {
        todo.add(v.getFunc().getName());
      }
    });
    while (!todo.isEmpty()) {
      String name = todo.pop();
      FunctionDef f = functions.get(name);
      if (f == null || !out.add(name)) {
        continue;
      }
      for (NodeDef n : f.getNodeDefList()) {
        if (functions.containsKey(n.getOp())) {
          todo.add(n.getOp());
        }
        n.getAttrMap().values().forEach(v -> {
          if (v.hasFunc()) {
            todo.add(v.getFunc().getName());
          }
        });
      }
    }
  }
}
