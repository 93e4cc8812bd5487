package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;

/**
 * The graph of a Keras CNN SavedModel as TensorFlow 2.5 writes it ({@code Conv2D}, {@code BatchNormalization},
 * {@code MaxPooling2D}, {@code Dropout}, {@code Flatten}, {@code Dense(softmax)}), rebuilt node for node after the
 * shared Keras MNIST model ({@code keras-mnist-dense}, TensorFlow 2.5.0) with the layers a CNN adds: the main graph
 * holds only variables, placeholders and three {@code StatefulPartitionedCall}s (serve, save, restore); the serving
 * signature wraps {@code __inference__wrapped_model_*}, whose body computes the layers inline and ends in {@code
 * sequential/dense/Softmax} behind an {@code Identity}; the per-layer {@code *_layer_call_and_return_conditional_losses_*}
 * functions hold the training variants (dropout's {@code RandomUniform}, batch norm's moving-average updates).
 */
class KerasCnnGraphTest {

  private static NodeDef node(String name, String op, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op);
    for (String in : inputs) {
      b.addInput(in);
    }
    return b.build();
  }

  private static NodeDef call(String name, String op, String function, String... inputs) {
    return node(name, op, inputs).toBuilder()
        .putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(function)).build())
        .build();
  }

  private static FunctionDef function(String name, List<String> args, String ret, List<NodeDef> body) {
    OpDef.Builder sig = OpDef.newBuilder().setName(name).addOutputArg(OpDef.ArgDef.newBuilder().setName("identity"));
    args.forEach(a -> sig.addInputArg(OpDef.ArgDef.newBuilder().setName(a)));
    return FunctionDef.newBuilder().setSignature(sig).putRet("identity", ret).addAllNodeDef(body).build();
  }

  private static final List<String> VARIABLES =
      List.of(
          "conv2d/kernel", "conv2d/bias", "batch_normalization/gamma", "batch_normalization/beta",
          "batch_normalization/moving_mean", "batch_normalization/moving_variance", "dense/kernel", "dense/bias");

  private static final List<String> RESOURCES =
      List.of("conv_k", "conv_b", "bn_gamma", "bn_beta", "bn_mean", "bn_var", "dense_k", "dense_b");

  /** The layers, inline, as in {@code __inference__wrapped_model_*} ({@code training}: dropout and BN train). */
  private static List<NodeDef> layers(String p, String input, boolean training) {
    List<NodeDef> n = new ArrayList<>();
    n.add(node(p + "conv2d/Conv2D/ReadVariableOp", "ReadVariableOp", "conv_k"));
    n.add(node(p + "conv2d/Conv2D", "Conv2D", input, p + "conv2d/Conv2D/ReadVariableOp:value:0"));
    n.add(node(p + "conv2d/BiasAdd/ReadVariableOp", "ReadVariableOp", "conv_b"));
    n.add(node(p + "conv2d/BiasAdd", "BiasAdd", p + "conv2d/Conv2D:output:0", p + "conv2d/BiasAdd/ReadVariableOp:value:0"));
    n.add(node(p + "conv2d/Relu", "Relu", p + "conv2d/BiasAdd:output:0"));
    n.add(node(p + "batch_normalization/ReadVariableOp", "ReadVariableOp", "bn_gamma"));
    n.add(node(p + "batch_normalization/ReadVariableOp_1", "ReadVariableOp", "bn_beta"));
    n.add(node(p + "batch_normalization/FusedBatchNormV3/ReadVariableOp", "ReadVariableOp", "bn_mean"));
    n.add(node(p + "batch_normalization/FusedBatchNormV3/ReadVariableOp_1", "ReadVariableOp", "bn_var"));
    n.add(node(p + "batch_normalization/FusedBatchNormV3", "FusedBatchNormV3", p + "conv2d/Relu:activations:0",
        p + "batch_normalization/ReadVariableOp:value:0", p + "batch_normalization/ReadVariableOp_1:value:0",
        p + "batch_normalization/FusedBatchNormV3/ReadVariableOp:value:0",
        p + "batch_normalization/FusedBatchNormV3/ReadVariableOp_1:value:0"));
    if (training) {
      // Keras 2.5's fused batch norm in training: the new moving statistics are assigned in place.
      n.add(node(p + "batch_normalization/AssignNewValue", "AssignVariableOp", "bn_mean",
          p + "batch_normalization/FusedBatchNormV3:batch_mean:0"));
      n.add(node(p + "batch_normalization/AssignNewValue_1", "AssignVariableOp", "bn_var",
          p + "batch_normalization/FusedBatchNormV3:batch_variance:0"));
    }
    n.add(node(p + "max_pooling2d/MaxPool", "MaxPool", p + "batch_normalization/FusedBatchNormV3:y:0"));
    String dropped;
    if (training) {
      n.add(node(p + "dropout/dropout/Const", "Const"));
      n.add(node(p + "dropout/dropout/Mul", "Mul", p + "max_pooling2d/MaxPool:output:0", p + "dropout/dropout/Const:output:0"));
      n.add(node(p + "dropout/dropout/Shape", "Shape", p + "max_pooling2d/MaxPool:output:0"));
      n.add(node(p + "dropout/dropout/random_uniform/RandomUniform", "RandomUniform", p + "dropout/dropout/Shape:output:0"));
      n.add(node(p + "dropout/dropout/GreaterEqual/y", "Const"));
      n.add(node(p + "dropout/dropout/GreaterEqual", "GreaterEqual",
          p + "dropout/dropout/random_uniform/RandomUniform:output:0", p + "dropout/dropout/GreaterEqual/y:output:0"));
      n.add(node(p + "dropout/dropout/Cast", "Cast", p + "dropout/dropout/GreaterEqual:z:0"));
      n.add(node(p + "dropout/dropout/Mul_1", "Mul", p + "dropout/dropout/Mul:z:0", p + "dropout/dropout/Cast:y:0"));
      dropped = p + "dropout/dropout/Mul_1:z:0";
    } else {
      n.add(node(p + "dropout/Identity", "Identity", p + "max_pooling2d/MaxPool:output:0"));
      dropped = p + "dropout/Identity:output:0";
    }
    n.add(node(p + "flatten/Const", "Const"));
    n.add(node(p + "flatten/Reshape", "Reshape", dropped, p + "flatten/Const:output:0"));
    n.add(node(p + "dense/MatMul/ReadVariableOp", "ReadVariableOp", "dense_k"));
    n.add(node(p + "dense/MatMul", "MatMul", p + "flatten/Reshape:output:0", p + "dense/MatMul/ReadVariableOp:value:0"));
    n.add(node(p + "dense/BiasAdd/ReadVariableOp", "ReadVariableOp", "dense_b"));
    n.add(node(p + "dense/BiasAdd", "BiasAdd", p + "dense/MatMul:product:0", p + "dense/BiasAdd/ReadVariableOp:value:0"));
    n.add(node(p + "dense/Softmax", "Softmax", p + "dense/BiasAdd:output:0"));
    n.add(node("Identity", "Identity", p + "dense/Softmax:softmax:0", "^" + p + "conv2d/Conv2D/ReadVariableOp"));
    return n;
  }

  /**
   * The meta graph; with {@code learningPhase} the serving wrapper reaches the training variant too, through an
   * {@code If} on a learning-phase tensor (as Keras's {@code smart_cond} does when {@code training} is a tensor), so
   * its ops must pass the scan as well.
   */
  static MetaGraphDef kerasCnn(boolean learningPhase, List<NodeDef> extraInTraining) {
    List<String> args = new ArrayList<>(List.of("conv2d_input"));
    args.addAll(RESOURCES);
    String[] callInputs = args.toArray(String[]::new);
    List<NodeDef> training = new ArrayList<>(layers("", "conv2d_input", true));
    training.addAll(extraInTraining);
    List<NodeDef> wrapper = new ArrayList<>();
    if (learningPhase) {
      wrapper.add(node("keras_learning_phase", "Const"));
      wrapper.add(node("cond", "If", concat("keras_learning_phase:output:0", callInputs)).toBuilder()
          .putAttr("then_branch", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder()
              .setName("__inference_sequential_layer_call_and_return_conditional_losses_2101")).build())
          .putAttr("else_branch", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder()
              .setName("__inference__wrapped_model_1642")).build())
          .build());
      wrapper.add(node("Identity", "Identity", "cond:output:0", "^cond"));
    } else {
      wrapper.add(call("StatefulPartitionedCall", "StatefulPartitionedCall", "__inference__wrapped_model_1642", callInputs));
      wrapper.add(node("Identity", "Identity", "StatefulPartitionedCall:output:0", "^StatefulPartitionedCall"));
    }
    List<String> saveArgs = new ArrayList<>(List.of("file_prefix"));
    saveArgs.addAll(RESOURCES);
    FunctionDefLibrary.Builder lib =
        FunctionDefLibrary.newBuilder()
            .addFunction(function("__inference_signature_wrapper_1834", args, "Identity:output:0", wrapper))
            .addFunction(function("__inference__wrapped_model_1642", args, "Identity:output:0",
                layers("sequential/", "conv2d_input", false)))
            .addFunction(function("__inference_sequential_layer_call_and_return_conditional_losses_2101", args,
                "Identity:output:0", training))
            .addFunction(function("__inference__traced_save_2200", saveArgs, "Identity:output:0", List.of(
                node("StaticRegexFullMatch", "StaticRegexFullMatch", "file_prefix"),
                node("Const", "Const"), node("Const_1", "Const"),
                node("Select", "Select", "StaticRegexFullMatch:output:0", "Const:output:0", "Const_1:output:0"),
                node("StringJoin", "StringJoin", "file_prefix", "Select:output:0"),
                node("num_shards", "Const"), node("ShardedFilename/shard", "Const"),
                node("ShardedFilename", "ShardedFilename", "StringJoin:output:0", "ShardedFilename/shard:output:0",
                    "num_shards:output:0"),
                node("SaveV2/tensor_names", "Const"), node("SaveV2/shape_and_slices", "Const"),
                node("SaveV2", "SaveV2", "ShardedFilename:filename:0", "SaveV2/tensor_names:output:0",
                    "SaveV2/shape_and_slices:output:0"),
                node("MergeV2Checkpoints/checkpoint_prefixes", "Pack", "ShardedFilename:filename:0", "^SaveV2"),
                node("MergeV2Checkpoints", "MergeV2Checkpoints", "MergeV2Checkpoints/checkpoint_prefixes:output:0",
                    "file_prefix"),
                node("Identity", "Identity", "file_prefix", "^MergeV2Checkpoints"),
                node("NoOp", "NoOp", "^MergeV2Checkpoints"))))
            .addFunction(function("__inference__traced_restore_2300", saveArgs, "Identity_9:output:0", List.of(
                node("RestoreV2/tensor_names", "Const"), node("RestoreV2/shape_and_slices", "Const"),
                node("RestoreV2", "RestoreV2", "file_prefix", "RestoreV2/tensor_names:output:0",
                    "RestoreV2/shape_and_slices:output:0"),
                node("Identity", "Identity", "RestoreV2:tensors:0"),
                node("AssignVariableOp", "AssignVariableOp", "conv_k", "Identity:output:0"),
                node("NoOp", "NoOp", "^AssignVariableOp"),
                node("Identity_9", "Identity", "file_prefix", "^NoOp"))));
    GraphDef.Builder g = GraphDef.newBuilder().setLibrary(lib);
    List<String> handles = new ArrayList<>();
    for (String v : VARIABLES) {
      g.addNode(node(v, "VarHandleOp"));
      g.addNode(node(v + "/Read/ReadVariableOp", "ReadVariableOp", v));
      handles.add(v);
    }
    g.addNode(node("NoOp", "NoOp"));
    g.addNode(node("serving_default_conv2d_input", "Placeholder"));
    g.addNode(call("StatefulPartitionedCall", "StatefulPartitionedCall", "__inference_signature_wrapper_1834",
        concat("serving_default_conv2d_input", handles.toArray(String[]::new))));
    g.addNode(node("saver_filename", "Placeholder"));
    g.addNode(call("StatefulPartitionedCall_1", "StatefulPartitionedCall", "__inference__traced_save_2200",
        concat("saver_filename", handles.stream().map(h -> h + "/Read/ReadVariableOp").toArray(String[]::new))));
    g.addNode(call("StatefulPartitionedCall_2", "StatefulPartitionedCall", "__inference__traced_restore_2300",
        concat("saver_filename", handles.toArray(String[]::new))));
    return MetaGraphDef.newBuilder()
        .setGraphDef(g)
        .putSignatureDef("serving_default", SignatureDef.newBuilder()
            .putInputs("conv2d_input", HostileSavedModels.tensor("serving_default_conv2d_input:0"))
            .putOutputs("dense", HostileSavedModels.tensor("StatefulPartitionedCall:0")).build())
        .putSignatureDef(GraphSafety.INIT_SIGNATURE, SignatureDef.newBuilder()
            .putOutputs(GraphSafety.INIT_SIGNATURE, HostileSavedModels.tensor("NoOp")).build())
        .setSaverDef(SaverDef.newBuilder()
            .setFilenameTensorName("saver_filename:0")
            .setSaveTensorName("StatefulPartitionedCall_1:0")
            .setRestoreOpName("StatefulPartitionedCall_2"))
        .build();
  }

  private static String[] concat(String first, String... rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  @Test
  void everyOpOfTheKerasCnnIsClassifiedAsTensorFlowDefinesIt() {
    Map<String, GraphSafety.OpClass> seen = new TreeMap<>();
    MetaGraphDef meta = kerasCnn(true, List.of());
    meta.getGraphDef().getNodeList().forEach(n -> seen.put(n.getOp(), GraphSafety.OPS.get(n.getOp()).opClass()));
    for (FunctionDef f : meta.getGraphDef().getLibrary().getFunctionList()) {
      f.getNodeDefList().forEach(n -> seen.put(n.getOp(), GraphSafety.OPS.get(n.getOp()).opClass()));
    }
    // Read against TensorFlow's op registrations (core/ops/*.cc): the layers' ops compute on tensors; RandomUniform
    // is stateful only through its in-memory generator; the variable ops touch resource variables in memory;
    // StaticRegexFullMatch/StringJoin/ShardedFilename build file names as strings without touching files.
    Map<String, GraphSafety.OpClass> checkpoint =
        Map.of("SaveV2", GraphSafety.OpClass.CHECKPOINT, "RestoreV2", GraphSafety.OpClass.CHECKPOINT,
            "MergeV2Checkpoints", GraphSafety.OpClass.CHECKPOINT);
    seen.forEach((op, c) -> assertEquals(checkpoint.getOrDefault(op, GraphSafety.OpClass.PURE), c, op));
    assertTrue(seen.keySet().containsAll(new TreeSet<>(List.of(
        "Conv2D", "FusedBatchNormV3", "MaxPool", "RandomUniform", "GreaterEqual", "Cast", "Softmax", "If",
        "StatefulPartitionedCall", "AssignVariableOp", "VarHandleOp"))), seen.keySet().toString());
  }

  @Test
  void theKerasCnnPassesTheScanAndItsSoftmaxIsFoundInTheNestedFunction() {
    for (boolean learningPhase : new boolean[] {false, true}) {
      MetaGraphDef meta = kerasCnn(learningPhase, List.of());
      assertEquals(List.of(), GraphSafety.scan(meta), "learning phase " + learningPhase);
      OutputEvidence.Found found = OutputEvidence.fromGraph(meta, "serving_default", "dense");
      assertEquals(OutputEvidence.Op.SOFTMAX, found.op(), found.describe());
    }
    // The real layout: wrapper -> wrapped model, its Softmax behind the body's Identity.
    OutputEvidence.Found found = OutputEvidence.fromGraph(kerasCnn(false, List.of()), "serving_default", "dense");
    assertEquals("__inference__wrapped_model_1642/sequential/dense/Softmax", found.node());
    // Through the If: both branches end in a Softmax, so the output is probabilities whichever runs.
    assertEquals("__inference_sequential_layer_call_and_return_conditional_losses_2101/dense/Softmax",
        OutputEvidence.fromGraph(kerasCnn(true, List.of()), "serving_default", "dense").node());
  }

  @Test
  void branchesThatDisagreeSayNothingAndTheValuesDecide() {
    MetaGraphDef.Builder meta = kerasCnn(true, List.of()).toBuilder();
    // The inference branch made to return the dense layer's logits: the branches disagree.
    FunctionDef.Builder wrapped = meta.getGraphDefBuilder().getLibraryBuilder().getFunctionBuilder(1);
    assertEquals("__inference__wrapped_model_1642", wrapped.getSignature().getName());
    wrapped.putRet("identity", "sequential/dense/BiasAdd:output:0");
    OutputEvidence.Found found = OutputEvidence.fromGraph(meta.build(), "serving_default", "dense");
    assertEquals(OutputEvidence.Op.UNKNOWN, found.op(), found.describe());
    assertEquals("If", found.opType());
  }

  @Test
  void theTrainingFunctionIsJudgedWhenServingCanReachIt() {
    List<NodeDef> write = List.of(node("summary_write", "WriteFile", "conv2d_input", "conv2d_input"));
    // Unreached (the real layout): the training variant is not run by serving, so what it holds is not refused.
    assertEquals(List.of(), GraphSafety.scan(kerasCnn(false, write)));
    // Reached through the learning-phase If: refused, naming node and function.
    List<GraphSafety.Finding> findings = GraphSafety.scan(kerasCnn(true, write));
    assertEquals(List.of("WriteFile@summary_write@__inference_sequential_layer_call_and_return_conditional_losses_2101"),
        GraphSafetyTest.names(findings));
  }
}
