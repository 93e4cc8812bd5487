package dev.tfkd.export;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Decides whether loading and calling a SavedModel can do more than compute. Loading a SavedModel runs its graph (the
 * restore op, the init op), calling it runs more, and a graph can read, write and list files, run Python, or talk to
 * the network. tf-kd loads foreign SavedModels (teachers, {@code tfkd predict}, {@code tfkd evaluate}, the Java
 * {@link Predictor}) only through {@link ScannedSavedModel}, which scans exactly the meta graph TensorFlow's loader
 * will load (the one whose tag set equals the requested set) from the same bytes it then loads.
 *
 * <h2>The rule: what can run, not what is present</h2>
 *
 * Every op TensorFlow registers is classified in {@code ops.tsv} (a resource beside this class) as {@code PURE}
 * (computation on tensors and in-memory state: math, layers, random numbers, strings, variables, tables filled from
 * tensors, control flow), {@code CHECKPOINT} ({@code SaveV2}, {@code MergeV2Checkpoints}, {@code RestoreV2}, ...) or
 * {@code UNSAFE} (files, network, processes, devices, environment, datasets, debugging output). An op missing from
 * the file is treated as unsafe. The scan computes which nodes can execute from three kinds of roots:
 *
 * <ul>
 *   <li><b>run</b>: every tensor named by every signature (inputs and outputs, sparse and composite components), and
 *       the init ops the loaders run: the {@code __saved_model_init_op} signature, the {@code saved_model_main_op}
 *       and {@code legacy_init_op} collections (TensorFlow's C++ loader), and the {@code table_initializer}
 *       collection (TensorFlow Java runs it before the first call). All of them are roots, whichever the loader
 *       would pick;
 *   <li><b>restore</b>: {@code saver_def.restore_op_name}, run at load with {@code filename_tensor_name} fed the
 *       path of the SavedModel's own {@code variables/variables};
 *   <li><b>save</b>: {@code saver_def.save_tensor_name}, which no loader and no tf-kd code runs.
 * </ul>
 *
 * From a root, a node of the main graph reaches every node it depends on (data and control inputs: what a session
 * run prunes to). A node that calls a library function (its op is the function's name, or any attribute holds a
 * function or a list of functions: {@code PartitionedCall}, {@code StatefulPartitionedCall}, {@code If}/{@code
 * While}/{@code Case} branches, dataset and batching functions, nested function attributes) reaches the whole body
 * of that function, and every function that body names, and their registered gradient functions: TensorFlow's
 * function runtime executes every stateful op of a body whether or not its outputs are used, so reachability inside
 * a function is not narrowed.
 *
 * <p>Then: an {@code UNSAFE} or unclassified op reachable from any root is refused; a {@code CHECKPOINT} op reachable
 * from a run root is refused whatever {@code saver_def} says; on the restore path only checkpoint reads ({@code
 * RestoreV2}, {@code Restore}, {@code RestoreSlice}) are allowed, and only when their file name is exactly the fed
 * file name tensor (through {@code Identity}-like ops; inside functions, an argument every restore-path call site
 * passes that tensor to), so a constant path, or a path joined from the fed one, is refused; checkpoint writes are
 * allowed only on the save path. Nodes no root reaches never run (a session prunes them, and no function calls them):
 * they are not refused for being present. Where unsure the rule errs towards refusing: an unsafe op on the save path
 * is refused though nothing runs it, signature inputs and the fed file name are roots though fed tensors are not
 * computed, every init collection is a root whichever one the loader uses, and a function reached from any root
 * counts in full.
 *
 * <p>Not covered: kernels that misbehave on hostile tensors (a memory-safety bug in a pure op), and what a model
 * computes. {@code --allow-unsafe-ops} loads a model despite findings.
 */
public final class GraphSafety {
  private GraphSafety() {}

  /** What an op can do, from {@code ops.tsv}. */
  enum OpClass {
    /** Computes on tensors and in-memory state only. */
    PURE,
    /** Reads or writes checkpoint files. */
    CHECKPOINT,
    /** Reaches files, network, processes, devices or the environment (or might). */
    UNSAFE
  }

  /** An op's class and the reason category ({@code files}, {@code network}, {@code checkpoint-write}...). */
  record OpInfo(OpClass opClass, String category) {}

  /** The classification of every op TensorFlow 2.18 registers. */
  static final Map<String, OpInfo> OPS = loadOps();

  /** Checkpoint ops that read; their input 0 is the file name (prefix or pattern). */
  static final Set<String> CHECKPOINT_READS = Set.of("RestoreV2", "Restore", "RestoreSlice");

  /** Ops that pass a tensor through unchanged: a file name may travel through them. */
  private static final Set<String> PASS_THROUGH = Set.of("Identity", "Snapshot", "IdentityN");

  /** The signature key under which TensorFlow 2 stores its init op. */
  static final String INIT_SIGNATURE = "__saved_model_init_op";

  /** Collections whose nodes a loader runs at load: C++ loader (main op, legacy init op), TensorFlow Java (tables). */
  static final List<String> INIT_COLLECTIONS = List.of("saved_model_main_op", "legacy_init_op", "table_initializer");

  private static Map<String, OpInfo> loadOps() {
    Map<String, OpInfo> ops = new HashMap<>();
    try (InputStream in = GraphSafety.class.getResourceAsStream("ops.tsv")) {
      if (in == null) {
        throw new IllegalStateException("resource dev/tfkd/export/ops.tsv is missing from the class path");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      int lineNo = 0;
      for (String line; (line = r.readLine()) != null; ) {
        lineNo++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] f = line.split("\t");
        if (f.length != 3 || ops.put(f[0], new OpInfo(OpClass.valueOf(f[1]), f[2])) != null) {
          throw new IllegalStateException("ops.tsv line " + lineNo + ": expected a new 'op<TAB>CLASS<TAB>category'");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Collections.unmodifiableMap(ops);
  }

  /**
   * One node that can run and must not.
   *
   * @param node the node's name
   * @param op the op it runs
   * @param function the library function holding the node, or empty for the main graph
   * @param reason what the op does and which root runs it, e.g. {@code files; run by signature 'serving_default'}
   */
  public record Finding(String node, String op, String function, String reason) {
    /** A finding without a reason (for comparisons that care about the node only). */
    public Finding(String node, String op, String function) {
      this(node, op, function, "");
    }

    /** {@code op WriteFile at node 'evil' in the main graph (files; run by signature 'serving_default')}. */
    public String describe() {
      return "op " + op + " at node '" + node + "' "
          + (function.isEmpty() ? "in the main graph" : "in function '" + function + "'")
          + (reason.isEmpty() ? "" : " (" + reason + ")");
    }
  }

  /** Nodes named per op in {@link #summarize}; the rest are counted. */
  private static final int NODES_NAMED = 2;

  /** Longest node name {@link #summarize} shows whole; longer ones keep their end. */
  private static final int NODE_NAME_CHARS = 48;

  /**
   * One line naming the ops of {@code findings} and, per op, its first nodes (long names shortened to their end),
   * for a warning: {@code WriteFile (node 'evil'), ReadFile (nodes 'load/ReadFile', '.../deep/ReadFile_1' and 3
   * more)}. Ops appear in the order of their first finding. Empty for no findings.
   */
  public static String summarize(List<Finding> findings) {
    Map<String, List<String>> byOp = new LinkedHashMap<>();
    for (Finding f : findings) {
      byOp.computeIfAbsent(f.op(), k -> new ArrayList<>()).add(f.node());
    }
    List<String> parts = new ArrayList<>();
    byOp.forEach((op, nodes) -> {
      List<String> shown = new ArrayList<>();
      for (String n : nodes.subList(0, Math.min(NODES_NAMED, nodes.size()))) {
        shown.add("'" + (n.length() <= NODE_NAME_CHARS ? n : "..." + n.substring(n.length() - NODE_NAME_CHARS + 3)) + "'");
      }
      String more = nodes.size() > NODES_NAMED ? " and " + (nodes.size() - NODES_NAMED) + " more" : "";
      parts.add(op + " (node" + (nodes.size() > 1 ? "s " : " ") + String.join(", ", shown) + more + ")");
    });
    return String.join(", ", parts);
  }

  /** Reads {@code dir/saved_model.pb} and scans the meta graph whose tag set is exactly {@code {tag}}. */
  public static List<Finding> scan(Path dir, String tag) throws IOException {
    return scan(metaGraph(dir, tag));
  }

  /**
   * Throws {@link IllegalArgumentException} naming the first finding in the {@code {tag}} meta graph of {@code dir},
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

  /** The meta graph of {@code dir/saved_model.pb} the loader picks for tag set {@code {tag}}. */
  public static MetaGraphDef metaGraph(Path dir, String tag) throws IOException {
    return ScannedSavedModel.read(dir, Set.of(tag)).metaGraph();
  }

  /** Every node of {@code meta} that can run (see the class comment) and is not allowed to. */
  public static List<Finding> scan(MetaGraphDef meta) {
    return new Reachability(meta).findings();
  }

  /** {@code ^a}, {@code a:1} and {@code a} all name node {@code a}. */
  static String nodeName(String tensorOrNode) {
    String s = tensorOrNode.startsWith("^") ? tensorOrNode.substring(1) : tensorOrNode;
    int colon = s.indexOf(':');
    return colon < 0 ? s : s.substring(0, colon);
  }

  /** {@code a} and {@code a:0} are the same tensor. */
  static String tensorName(String tensor) {
    return tensor.indexOf(':') < 0 ? tensor + ":0" : tensor;
  }

  /** Adds every function name {@code attr} holds, including lists of functions and functions nested in them. */
  static void functionsIn(AttrValue attr, Set<String> out) {
    if (attr.hasFunc()) {
      functionsIn(attr.getFunc(), out);
    }
    if (attr.hasList()) {
      for (NameAttrList f : attr.getList().getFuncList()) {
        functionsIn(f, out);
      }
    }
  }

  private static void functionsIn(NameAttrList f, Set<String> out) {
    out.add(f.getName());
    for (AttrValue v : f.getAttrMap().values()) {
      functionsIn(v, out);
    }
  }

  /** The three kinds of roots: run (signatures and init ops), restore (run at load), save (never run). */
  private enum Kind { RUN, RESTORE, SAVE }

  /** The reachability analysis of one meta graph. */
  private static final class Reachability {
    private final Map<String, NodeDef> nodes = new LinkedHashMap<>();
    private final Map<String, FunctionDef> functions = new LinkedHashMap<>();
    private final Map<String, String> gradients = new HashMap<>();
    /** Per kind: reached main-graph node to the root that reaches it first. */
    private final Map<Kind, Map<String, String>> reachedNodes = new HashMap<>();
    /** Per kind: reached function to the root that reaches it first. */
    private final Map<Kind, Map<String, String>> reachedFunctions = new HashMap<>();
    private final String filenameTensor;

    Reachability(MetaGraphDef meta) {
      GraphDef graph = meta.getGraphDef();
      for (NodeDef n : graph.getNodeList()) {
        nodes.put(n.getName(), n);
      }
      for (FunctionDef f : graph.getLibrary().getFunctionList()) {
        functions.put(f.getSignature().getName(), f);
      }
      graph.getLibrary().getGradientList().forEach(g -> gradients.put(g.getFunctionName(), g.getGradientFunc()));
      SaverDef saver = meta.hasSaverDef() ? meta.getSaverDef() : SaverDef.getDefaultInstance();
      filenameTensor = saver.getFilenameTensorName().isEmpty() ? "" : tensorName(saver.getFilenameTensorName());
      for (Kind k : Kind.values()) {
        reachedNodes.put(k, new LinkedHashMap<>());
        reachedFunctions.put(k, new LinkedHashMap<>());
      }
      for (var sig : meta.getSignatureDefMap().entrySet()) {
        boolean init = sig.getKey().equals(INIT_SIGNATURE);
        String why = init ? "run at load by the init signature '" + INIT_SIGNATURE + "'"
            : "run by signature '" + sig.getKey() + "'";
        for (String t : tensors(sig.getValue())) {
          reach(Kind.RUN, t, why);
        }
      }
      for (String c : INIT_COLLECTIONS) {
        CollectionDef col = meta.getCollectionDefMap().get(c);
        if (col != null) {
          for (String n : col.getNodeList().getValueList()) {
            reach(Kind.RUN, n, "run at load by the '" + c + "' collection");
          }
        }
      }
      if (!saver.getRestoreOpName().isEmpty()) {
        reach(Kind.RESTORE, saver.getRestoreOpName(), "on the restore path run at load");
      }
      if (!saver.getSaveTensorName().isEmpty()) {
        reach(Kind.SAVE, saver.getSaveTensorName(), "on the save path");
      }
    }

    private static List<String> tensors(SignatureDef sig) {
      List<String> out = new ArrayList<>();
      for (Map<String, TensorInfo> m : List.of(sig.getInputsMap(), sig.getOutputsMap())) {
        for (TensorInfo t : m.values()) {
          tensors(t, out);
        }
      }
      return out;
    }

    private static void tensors(TensorInfo t, List<String> out) {
      if (!t.getName().isEmpty()) {
        out.add(t.getName());
      }
      if (t.hasCooSparse()) {
        out.add(t.getCooSparse().getValuesTensorName());
        out.add(t.getCooSparse().getIndicesTensorName());
        out.add(t.getCooSparse().getDenseShapeTensorName());
      }
      for (TensorInfo c : t.getCompositeTensor().getComponentsList()) {
        tensors(c, out);
      }
    }

    /** Marks everything {@code root} (a node or tensor of the main graph) can run as reached for {@code kind}. */
    private void reach(Kind kind, String root, String why) {
      Map<String, String> seen = reachedNodes.get(kind);
      Deque<String> todo = new ArrayDeque<>();
      Set<String> called = new HashSet<>();
      if (!root.isEmpty()) {
        todo.add(nodeName(root));
      }
      while (!todo.isEmpty()) {
        String name = todo.pop();
        NodeDef n = nodes.get(name);
        if (n == null || seen.putIfAbsent(name, why) != null) {
          continue;
        }
        for (String in : n.getInputList()) {
          todo.add(nodeName(in));
        }
        calls(n, called);
      }
      reachFunctions(kind, called, why);
    }

    /** The functions {@code n} calls: its op when that is a library function, and every function attribute. */
    private void calls(NodeDef n, Set<String> out) {
      if (functions.containsKey(n.getOp())) {
        out.add(n.getOp());
      }
      for (AttrValue v : n.getAttrMap().values()) {
        functionsIn(v, out);
      }
    }

    private void reachFunctions(Kind kind, Set<String> start, String why) {
      Map<String, String> seen = reachedFunctions.get(kind);
      Deque<String> todo = new ArrayDeque<>(start);
      while (!todo.isEmpty()) {
        String name = todo.pop();
        if (seen.putIfAbsent(name, why) != null) {
          continue;
        }
        FunctionDef f = functions.get(name);
        if (f == null) {
          continue; // An op-like name (a registered op or missing function); the loader fails on a missing one.
        }
        Set<String> called = new HashSet<>();
        for (NodeDef n : f.getNodeDefList()) {
          calls(n, called);
        }
        for (AttrValue v : f.getAttrMap().values()) {
          functionsIn(v, called);
        }
        if (gradients.containsKey(name)) {
          called.add(gradients.get(name));
        }
        todo.addAll(called);
      }
    }

    List<Finding> findings() {
      List<Finding> out = new ArrayList<>();
      Set<String> cleanArgs = restoreFilenameArgs();
      for (NodeDef n : nodes.values()) {
        judge(n, "", out, cleanArgs);
      }
      for (FunctionDef f : functions.values()) {
        for (NodeDef n : f.getNodeDefList()) {
          judge(n, f.getSignature().getName(), out, cleanArgs);
        }
      }
      return out;
    }

    private String reachedBy(Kind kind, String function, String node) {
      return function.isEmpty() ? reachedNodes.get(kind).get(node) : reachedFunctions.get(kind).get(function);
    }

    private void judge(NodeDef n, String function, List<Finding> out, Set<String> cleanArgs) {
      String run = reachedBy(Kind.RUN, function, n.getName());
      String restore = reachedBy(Kind.RESTORE, function, n.getName());
      String save = reachedBy(Kind.SAVE, function, n.getName());
      String any = run != null ? run : restore != null ? restore : save;
      if (any == null || functions.containsKey(n.getOp()) && !OPS.containsKey(n.getOp())) {
        return; // Never runs; or a direct call of a library function, judged through its body.
      }
      OpInfo info = OPS.get(n.getOp());
      String reason = null;
      if (info == null) {
        reason = "an op tf-kd does not know; " + any;
      } else if (info.opClass() == OpClass.UNSAFE) {
        reason = info.category() + "; " + any;
      } else if (info.opClass() == OpClass.CHECKPOINT) {
        if (run != null) {
          reason = info.category() + "; " + run;
        } else if (restore != null && !CHECKPOINT_READS.contains(n.getOp())) {
          reason = info.category() + "; " + restore;
        } else if (restore != null && !fedFilename(n, function, cleanArgs)) {
          reason = info.category() + " from a file name other than the one the loader feeds (the SavedModel's own"
              + " variables/); " + restore;
        }
      }
      if (reason != null) {
        out.add(new Finding(n.getName(), n.getOp(), function, reason));
      }
    }

    /** Whether a checkpoint read's file name (input 0) is the file name tensor the loader feeds. */
    private boolean fedFilename(NodeDef n, String function, Set<String> cleanArgs) {
      if (n.getInputCount() == 0) {
        return false;
      }
      if (function.isEmpty()) {
        return !filenameTensor.isEmpty() && filenameTensor.equals(traceMain(n.getInput(0)));
      }
      int arg = traceArg(functions.get(function), n.getInput(0));
      return arg >= 0 && cleanArgs.contains(function + "#" + arg);
    }

    /** Follows a main-graph tensor back through pass-through ops; the tensor it comes from. */
    private String traceMain(String tensor) {
      for (int hops = 0; hops < 1000; hops++) {
        String t = tensorName(tensor);
        NodeDef n = nodes.get(nodeName(t));
        if (n == null || !PASS_THROUGH.contains(n.getOp())) {
          return t;
        }
        int index = outputIndex(t.substring(t.indexOf(':') + 1));
        int input = n.getOp().equals("IdentityN") ? index : 0;
        if (input < 0) {
          return t;
        }
        if (input >= n.getInputCount() || n.getInput(input).startsWith("^")) {
          return t;
        }
        tensor = n.getInput(input);
      }
      return "";
    }

    /** A tensor's output index, or -1 when it is not a number (a hostile name must not crash the scan). */
    private static int outputIndex(String s) {
      try {
        return Integer.parseInt(s);
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    /** Follows a function-body tensor back through pass-through ops to an argument: its index, or -1. */
    private static int traceArg(FunctionDef f, String ref) {
      Map<String, NodeDef> body = new HashMap<>();
      for (NodeDef n : f.getNodeDefList()) {
        body.put(n.getName(), n);
      }
      List<OpDef.ArgDef> args = f.getSignature().getInputArgList();
      for (int hops = 0; hops < 1000; hops++) {
        if (ref.startsWith("^")) {
          return -1;
        }
        String[] parts = ref.split(":");
        if (parts.length == 1) {
          for (int i = 0; i < args.size(); i++) {
            if (args.get(i).getName().equals(ref)) {
              return i;
            }
          }
          return -1;
        }
        NodeDef n = body.get(parts[0]);
        if (n == null || !PASS_THROUGH.contains(n.getOp()) || parts.length != 3) {
          return -1;
        }
        int input = n.getOp().equals("IdentityN") ? outputIndex(parts[2]) : 0;
        if (input < 0 || input >= n.getInputCount()) {
          return -1;
        }
        ref = n.getInput(input);
      }
      return -1;
    }

    /**
     * The function arguments ({@code name#index}) that hold the fed file name on every call reachable from the
     * restore op: the largest set such that every call site on the restore path passes, at that position, the fed
     * file name tensor (main graph) or an argument of its own function in the set. Functions reached through other
     * attributes (branches, bodies) get none.
     */
    private Set<String> restoreFilenameArgs() {
      if (filenameTensor.isEmpty()) {
        return Set.of();
      }
      // Call sites on the restore path: (caller function or "", node).
      List<Map.Entry<String, NodeDef>> sites = new ArrayList<>();
      for (String name : reachedNodes.get(Kind.RESTORE).keySet()) {
        sites.add(Map.entry("", nodes.get(name)));
      }
      for (String fn : reachedFunctions.get(Kind.RESTORE).keySet()) {
        FunctionDef f = functions.get(fn);
        if (f != null) {
          f.getNodeDefList().forEach(n -> sites.add(Map.entry(fn, n)));
        }
      }
      Set<String> clean = new HashSet<>();
      for (String fn : reachedFunctions.get(Kind.RESTORE).keySet()) {
        FunctionDef f = functions.get(fn);
        if (f != null) {
          for (int i = 0; i < f.getSignature().getInputArgCount(); i++) {
            clean.add(fn + "#" + i);
          }
        }
      }
      boolean changed = true;
      while (changed) {
        changed = false;
        for (var site : sites) {
          NodeDef n = site.getValue();
          Set<String> callees = new HashSet<>();
          calls(n, callees);
          String direct = directCallee(n);
          List<String> inputs = n.getInputList().stream().filter(s -> !s.startsWith("^")).toList();
          for (String callee : callees) {
            FunctionDef f = functions.get(callee);
            if (f == null) {
              continue;
            }
            for (int i = 0; i < f.getSignature().getInputArgCount(); i++) {
              boolean passes =
                  callee.equals(direct) && singleTensorArgs(f) && i < inputs.size()
                      && (site.getKey().isEmpty()
                          ? filenameTensor.equals(traceMain(inputs.get(i)))
                          : clean.contains(site.getKey() + "#" + traceArg(functions.get(site.getKey()), inputs.get(i))));
              if (!passes && clean.remove(callee + "#" + i)) {
                changed = true;
              }
            }
          }
        }
      }
      return clean;
    }

    /** The function whose arguments are {@code n}'s inputs in order: a call op's {@code f}, or {@code n}'s own op. */
    private String directCallee(NodeDef n) {
      if (functions.containsKey(n.getOp())) {
        return n.getOp();
      }
      if ((n.getOp().equals("PartitionedCall") || n.getOp().equals("StatefulPartitionedCall")) && n.containsAttr("f")) {
        return n.getAttrOrThrow("f").getFunc().getName();
      }
      return null;
    }

    private static boolean singleTensorArgs(FunctionDef f) {
      return f.getSignature().getInputArgList().stream()
          .allMatch(a -> a.getNumberAttr().isEmpty() && a.getTypeListAttr().isEmpty());
    }
  }
}
