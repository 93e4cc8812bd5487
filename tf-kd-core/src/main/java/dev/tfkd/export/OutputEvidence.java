package dev.tfkd.export;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * What a SavedModel's graph and values say about the kind of a classifier output: logits, probabilities or
 * log-probabilities. Output names say nothing (Keras names an output after its layer, {@code dense_1}), so the
 * graph is read instead.
 *
 * <p><b>From the graph</b> ({@link #fromGraph}): the signature's output tensor is followed back to the op that
 * computes it, through ops that pass values on unchanged ({@code Identity}, {@code IdentityN}, {@code Snapshot},
 * {@code StopGradient}, {@code CheckNumerics}, {@code EnsureShape}, and the reshaping ops {@code Reshape},
 * {@code Squeeze}, {@code ExpandDims}, so a sigmoid squeezed to {@code [batch]} is still found) and into the bodies of library functions
 * ({@code PartitionedCall}, {@code StatefulPartitionedCall}, a node whose op is a library function), where TensorFlow
 * 2 and Keras put the whole computation, and into the branches of conditionals ({@code If}, {@code StatelessIf},
 * {@code Case}; the op counts only when every branch ends in the same kind). The op found decides: {@code Softmax} gives {@link Op#SOFTMAX},
 * {@code LogSoftmax} {@link Op#LOG_SOFTMAX}, {@code Sigmoid} {@link Op#SIGMOID}; anything else {@link Op#OTHER}
 * (taken as logits); a chain that ends at a function argument or a missing node, or loops, gives {@link Op#UNKNOWN}.
 *
 * <p><b>From the values</b> ({@link #fromValues}): rows that are non-negative and sum to 1 within
 * {@link #ROW_SUM_TOLERANCE} look like probabilities; rows whose entries are all at most 0 and whose log-sum-exp is
 * 0 within the same tolerance look like log-probabilities; anything else looks like logits. Non-finite values
 * are read as logits (no distribution has them), so the caller's finite-value check reports them. A one-value
 * output is judged by {@link #fromBinaryValues}: every value in [0, 1] looks like a probability.
 */
public final class OutputEvidence {
  private OutputEvidence() {}

  /** How far a row's sum (or log-sum-exp) may stray from 1 (or 0) and still count as a distribution. */
  public static final double ROW_SUM_TOLERANCE = 1e-4;

  /** The op that computes an output, as far as its kind is concerned. */
  public enum Op {
    /** A softmax: the output holds probabilities. */
    SOFTMAX,
    /** A log-softmax: the output holds log-probabilities. */
    LOG_SOFTMAX,
    /** A sigmoid: a binary classifier's probability of the positive class. */
    SIGMOID,
    /** Any other op: the output is read as logits. */
    OTHER,
    /** The chain could not be followed to an op (a function argument, a missing node, a loop). */
    UNKNOWN
  }

  /**
   * The op found for one output, and the path walked to it.
   *
   * @param op the kind of op that computes the output
   * @param node the name of that node ({@code function/node} inside a library function), or empty
   * @param opType the op type of that node (e.g. {@code Softmax}, {@code BiasAdd}), or empty
   */
  public record Found(Op op, String node, String opType) {
    /** {@code Softmax at node 'sequential/dense_1/Softmax' in function '__inference_...'}. */
    public String describe() {
      return opType.isEmpty() ? "no op found" : opType + " at node '" + node + "'";
    }
  }

  /** What the values of a batch of output rows look like. */
  public enum Values {
    /** Non-negative rows summing to 1. */
    PROBABILITIES,
    /** Non-positive rows whose log-sum-exp is 0. */
    LOG_PROBABILITIES,
    /** Anything else. */
    LOGITS
  }

  /** Ops whose output holds the values of their input (data input 0, or input i for IdentityN's output i). */
  private static final Set<String> PASS_THROUGH =
      Set.of(
          "Identity", "IdentityN", "Snapshot", "StopGradient", "PreventGradient", "CheckNumerics", "EnsureShape",
          "Reshape", "Squeeze", "ExpandDims");

  private static final Set<String> CALLS = Set.of("PartitionedCall", "StatefulPartitionedCall");

  /** Conditionals: output i is output i of whichever branch runs. */
  private static final Set<String> CONDITIONALS = Set.of("If", "StatelessIf", "Case", "StatelessCase");

  /**
   * The op behind output {@code outputKey} of signature {@code signatureKey} of {@code meta}.
   *
   * @throws IllegalArgumentException if the signature or the output does not exist
   */
  public static Found fromGraph(MetaGraphDef meta, String signatureKey, String outputKey) {
    SignatureDef sig = meta.getSignatureDefMap().get(signatureKey);
    if (sig == null) {
      throw new IllegalArgumentException("no signature '" + signatureKey + "'; signatures: " + meta.getSignatureDefMap().keySet());
    }
    TensorInfo info = sig.getOutputsMap().get(outputKey);
    if (info == null) {
      throw new IllegalArgumentException(
          "signature '" + signatureKey + "' has no output '" + outputKey + "'; outputs: " + sig.getOutputsMap().keySet());
    }
    return new Walker(meta).fromMainGraph(info.getName());
  }

  /**
   * What {@code rows} ({@code n} rows of {@code k} values, row-major) look like. An empty batch looks like logits.
   */
  public static Values fromValues(float[] rows, int k) {
    if (k < 1 || rows.length == 0 || rows.length % k != 0) {
      return Values.LOGITS;
    }
    boolean probabilities = true;
    boolean logProbabilities = true;
    for (int r = 0; r < rows.length / k && (probabilities || logProbabilities); r++) {
      double sum = 0;
      double max = Double.NEGATIVE_INFINITY;
      boolean nonNegative = true;
      boolean nonPositive = true;
      for (int j = 0; j < k; j++) {
        float v = rows[r * k + j];
        if (!Float.isFinite(v) && !(v == Float.NEGATIVE_INFINITY)) {
          return Values.LOGITS;
        }
        sum += v;
        max = Math.max(max, v);
        nonNegative &= v >= 0;
        nonPositive &= v <= 0;
      }
      probabilities &= nonNegative && Math.abs(sum - 1) <= ROW_SUM_TOLERANCE;
      if (logProbabilities) {
        double s = 0;
        for (int j = 0; j < k; j++) {
          s += Math.exp(rows[r * k + j] - max);
        }
        double lse = max + Math.log(s);
        logProbabilities = nonPositive && Double.isFinite(lse) && Math.abs(lse) <= ROW_SUM_TOLERANCE;
      }
    }
    // A one-column output of ones is both; probabilities is the reading every real model means by it.
    return probabilities ? Values.PROBABILITIES : logProbabilities ? Values.LOG_PROBABILITIES : Values.LOGITS;
  }

  /**
   * What one value per example ({@code [batch]} or {@code [batch, 1]}) looks like: {@link Values#PROBABILITIES}
   * when every value is in [0, 1] (a sigmoid's), else {@link Values#LOGITS}. An empty batch looks like logits.
   */
  public static Values fromBinaryValues(float[] values) {
    if (values.length == 0) {
      return Values.LOGITS;
    }
    for (float v : values) {
      // NaN fails both comparisons, so it reads as logits too.
      if (!(v >= 0f && v <= 1f)) {
        return Values.LOGITS;
      }
    }
    return Values.PROBABILITIES;
  }

  /** Follows tensors back through the main graph and the function library. */
  private static final class Walker {
    private final Map<String, NodeDef> graph = new HashMap<>();
    private final Map<String, FunctionDef> functions = new HashMap<>();
    private final Set<String> visited = new HashSet<>();

    Walker(MetaGraphDef meta) {
      for (NodeDef n : meta.getGraphDef().getNodeList()) {
        graph.put(n.getName(), n);
      }
      for (FunctionDef f : meta.getGraphDef().getLibrary().getFunctionList()) {
        functions.put(f.getSignature().getName(), f);
      }
    }

    /** A main-graph tensor name: {@code node} or {@code node:index}. */
    Found fromMainGraph(String tensor) {
      Deque<String> frames = new ArrayDeque<>();
      String name = tensor;
      int index = 0;
      int colon = tensor.lastIndexOf(':');
      if (colon > 0 && tensor.substring(colon + 1).chars().allMatch(Character::isDigit)) {
        name = tensor.substring(0, colon);
        index = Integer.parseInt(tensor.substring(colon + 1));
      }
      return follow(graph, null, name, index, frames);
    }

    /**
     * Follows output {@code index} of node {@code name} in {@code nodes} (the main graph when {@code function} is
     * null, else the body of {@code function}).
     */
    private Found follow(Map<String, NodeDef> nodes, FunctionDef function, String name, int index, Deque<String> frames) {
      String where = function == null ? "" : function.getSignature().getName() + "/";
      if (!visited.add(where + name + ":" + index) || frames.size() > 64) {
        return new Found(Op.UNKNOWN, where + name, "");
      }
      NodeDef n = nodes.get(name);
      if (n == null) {
        return new Found(Op.UNKNOWN, where + name, "");
      }
      String op = n.getOp();
      switch (op) {
        case "Softmax":
          return new Found(Op.SOFTMAX, where + name, op);
        case "LogSoftmax":
          return new Found(Op.LOG_SOFTMAX, where + name, op);
        case "Sigmoid":
          return new Found(Op.SIGMOID, where + name, op);
        default:
          break;
      }
      if (PASS_THROUGH.contains(op)) {
        // IdentityN's output i is its input i; the others have one data input.
        int input = op.equals("IdentityN") ? index : 0;
        List<String> data = n.getInputList().stream().filter(s -> !s.startsWith("^")).toList();
        if (input >= data.size()) {
          return new Found(Op.UNKNOWN, where + name, op);
        }
        return followInput(nodes, function, data.get(input), frames);
      }
      FunctionDef callee = callee(n);
      if (callee != null) {
        return followReturn(callee, index, frames);
      }
      List<FunctionDef> branches = branches(n);
      if (!branches.isEmpty()) {
        return followBranches(branches, where + name, op, index, frames);
      }
      return new Found(Op.OTHER, where + name, op);
    }

    /** Follows a node input: {@code node}, {@code node:index} (main graph) or {@code node:output:index} (function). */
    private Found followInput(Map<String, NodeDef> nodes, FunctionDef function, String input, Deque<String> frames) {
      String[] parts = input.split(":");
      if (function == null) {
        int index = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
        return follow(nodes, null, parts[0], index, frames);
      }
      if (parts.length == 1) {
        // A function argument: the value comes from the caller, so this op says nothing about its kind.
        return new Found(Op.UNKNOWN, function.getSignature().getName() + "/" + parts[0], "");
      }
      NodeDef producer = nodes.get(parts[0]);
      int index = parts.length > 2 ? Integer.parseInt(parts[2]) : 0;
      if (producer != null && parts.length > 2) {
        index = flatIndex(producer, parts[1], index);
      }
      return follow(nodes, function, parts[0], index, frames);
    }

    /** Output {@code index} of a call of {@code callee}: the body's return value for that output argument. */
    private Found followReturn(FunctionDef callee, int index, Deque<String> frames) {
      List<OpDef.ArgDef> outs = callee.getSignature().getOutputArgList();
      if (index >= outs.size()) {
        return new Found(Op.UNKNOWN, callee.getSignature().getName(), "");
      }
      String ret = callee.getRetMap().get(outs.get(index).getName());
      if (ret == null) {
        return new Found(Op.UNKNOWN, callee.getSignature().getName(), "");
      }
      Map<String, NodeDef> body = new HashMap<>();
      for (NodeDef b : callee.getNodeDefList()) {
        body.put(b.getName(), b);
      }
      frames.push(callee.getSignature().getName());
      try {
        return followInput(body, callee, ret, frames);
      } finally {
        frames.pop();
      }
    }

    /**
     * Output {@code index} of a conditional: what every branch returns there, when all branches agree on the op
     * (Keras's {@code smart_cond} on a learning-phase tensor runs the same layers either way); else {@link
     * Op#UNKNOWN}, and the values decide.
     */
    private Found followBranches(List<FunctionDef> branches, String node, String op, int index, Deque<String> frames) {
      Found first = null;
      Set<String> followed = new HashSet<>();
      for (FunctionDef b : branches) {
        if (!followed.add(b.getSignature().getName())) {
          continue;
        }
        Found f = followReturn(b, index, frames);
        if (f.op() == Op.UNKNOWN || first != null && f.op() != first.op()) {
          return new Found(Op.UNKNOWN, node, op);
        }
        first = first == null ? f : first;
      }
      return first == null ? new Found(Op.UNKNOWN, node, op) : first;
    }

    /** The branch functions of a conditional node, in order; empty for any other node or a missing function. */
    private List<FunctionDef> branches(NodeDef n) {
      if (!CONDITIONALS.contains(n.getOp())) {
        return List.of();
      }
      List<NameAttrList> named = new java.util.ArrayList<>();
      for (String attr : List.of("then_branch", "else_branch")) {
        AttrValue v = n.getAttrMap().get(attr);
        if (v != null && v.hasFunc()) {
          named.add(v.getFunc());
        }
      }
      AttrValue list = n.getAttrMap().get("branches");
      if (list != null && list.hasList()) {
        named.addAll(list.getList().getFuncList());
      }
      List<FunctionDef> out = new java.util.ArrayList<>();
      for (NameAttrList f : named) {
        FunctionDef fn = functions.get(f.getName());
        if (fn == null) {
          return List.of();
        }
        out.add(fn);
      }
      return out;
    }

    /** The library function a node calls, or null. */
    private FunctionDef callee(NodeDef n) {
      if (functions.containsKey(n.getOp())) {
        return functions.get(n.getOp());
      }
      if (CALLS.contains(n.getOp())) {
        AttrValue f = n.getAttrMap().get("f");
        if (f != null && f.hasFunc()) {
          return functions.get(f.getFunc().getName());
        }
      }
      return null;
    }

    /**
     * The flat output index of {@code producer}'s output argument {@code arg}, element {@code index}. Inside a
     * function body outputs are named ({@code node:output:0}); for the ops followed here (single-tensor outputs and
     * calls whose outputs are one tensor each) the flat index is the position of the argument plus the element. A
     * node whose op is a library function names its outputs after the function's output arguments.
     */
    private int flatIndex(NodeDef producer, String arg, int index) {
      FunctionDef callee = functions.get(producer.getOp());
      if (callee != null) {
        List<OpDef.ArgDef> outs = callee.getSignature().getOutputArgList();
        for (int i = 0; i < outs.size(); i++) {
          if (outs.get(i).getName().equals(arg)) {
            return i + index;
          }
        }
      }
      // Calls name their outputs "output"; single-output ops name theirs after the op's output argument.
      return index;
    }
  }
}
