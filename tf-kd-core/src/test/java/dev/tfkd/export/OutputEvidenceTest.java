package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.export.OutputEvidence.Op;
import dev.tfkd.export.OutputEvidence.Values;
import dev.tfkd.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

class OutputEvidenceTest {

  /** A real SavedModel of {@code shared/savedmodels}, or null where the shared folder is absent. */
  private static Path sharedModel(String name) {
    return SharedData.find("savedmodels/" + name).filter(Files::isDirectory).orElse(null);
  }

  @Test
  void kerasSoftmaxLayerIsFoundInsideTheFunctionLibrary() throws Exception {
    Path dir = sharedModel("keras-mnist-dense/mnist_model");
    assumeTrue(dir != null, "needs ../shared/savedmodels (a Keras SavedModel written by TensorFlow 2.5)");
    MetaGraphDef meta = GraphSafety.metaGraph(dir, "serve");
    OutputEvidence.Found found = OutputEvidence.fromGraph(meta, "serving_default", "dense_1");
    assertEquals(Op.SOFTMAX, found.op(), found.describe());
    assertEquals("Softmax", found.opType());
  }

  @Test
  void tfServingHalfPlusTwoIsNoDistribution() throws Exception {
    Path dir = sharedModel("tf-serving-half-plus-two-tf2/00000123");
    assumeTrue(dir != null, "needs ../shared/savedmodels (TensorFlow Serving's test model)");
    MetaGraphDef meta = GraphSafety.metaGraph(dir, "serve");
    String output = meta.getSignatureDefOrThrow("serving_default").getOutputsMap().keySet().iterator().next();
    OutputEvidence.Found found = OutputEvidence.fromGraph(meta, "serving_default", output);
    assertEquals(Op.OTHER, found.op(), found.describe());
  }

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

  private static FunctionDef function(String name, String ret, NodeDef... body) {
    FunctionDef.Builder f =
        FunctionDef.newBuilder()
            .setSignature(
                OpDef.newBuilder()
                    .setName(name)
                    .addInputArg(OpDef.ArgDef.newBuilder().setName("x"))
                    .addOutputArg(OpDef.ArgDef.newBuilder().setName("out")))
            .putRet("out", ret);
    for (NodeDef n : body) {
      f.addNodeDef(n);
    }
    return f.build();
  }

  private static MetaGraphDef meta(String outputTensor, FunctionDef[] functions, NodeDef... nodes) {
    GraphDef.Builder g = GraphDef.newBuilder().setLibrary(FunctionDefLibrary.newBuilder().addAllFunction(java.util.List.of(functions)));
    for (NodeDef n : nodes) {
      g.addNode(n);
    }
    return MetaGraphDef.newBuilder()
        .setGraphDef(g)
        .putSignatureDef(
            "serving_default",
            SignatureDef.newBuilder().putOutputs("out", TensorInfo.newBuilder().setName(outputTensor).build()).build())
        .build();
  }

  @Test
  void logSoftmaxTwoCallsDeepBehindIdentities() {
    FunctionDef inner = function("inner", "ls:logsoftmax:0", node("z", "MatMul", "x", "x"), node("ls", "LogSoftmax", "z:product:0"));
    FunctionDef outer =
        function("outer", "id:output:0", call("c", "StatefulPartitionedCall", "inner", "x"), node("id", "Identity", "c:output:0"));
    MetaGraphDef m =
        meta(
            "out_id:0", new FunctionDef[] {inner, outer},
            node("input", "Placeholder"), call("call", "PartitionedCall", "outer", "input"),
            node("out_id", "Identity", "call", "^input"));
    OutputEvidence.Found found = OutputEvidence.fromGraph(m, "serving_default", "out");
    assertEquals(Op.LOG_SOFTMAX, found.op());
    assertEquals("inner/ls", found.node());
  }

  @Test
  void aFunctionCalledAsAnOpNamesItsOutputsAfterItsArguments() {
    FunctionDef f = function("probs_fn", "s:softmax:0", node("s", "Softmax", "x"));
    FunctionDef outer =
        function("outer", "c:out:0", node("c", "probs_fn", "x"));
    MetaGraphDef m =
        meta("call:0", new FunctionDef[] {f, outer}, node("input", "Placeholder"), call("call", "StatefulPartitionedCall", "outer", "input"));
    assertEquals(Op.SOFTMAX, OutputEvidence.fromGraph(m, "serving_default", "out").op());
  }

  @Test
  void logitsOfAPlainGraphAndAPassThroughOfTheInput() {
    MetaGraphDef plain =
        meta("logits:0", new FunctionDef[0], node("x", "Placeholder"), node("w", "Const"), node("logits", "MatMul", "x", "w"));
    assertEquals(Op.OTHER, OutputEvidence.fromGraph(plain, "serving_default", "out").op());
    assertEquals("MatMul", OutputEvidence.fromGraph(plain, "serving_default", "out").opType());

    // A function that returns its argument says nothing about the output.
    FunctionDef echo = function("echo", "x", new NodeDef[0]);
    MetaGraphDef echoing =
        meta("c:0", new FunctionDef[] {echo}, node("x", "Placeholder"), call("c", "PartitionedCall", "echo", "x"));
    assertEquals(Op.UNKNOWN, OutputEvidence.fromGraph(echoing, "serving_default", "out").op());

    // A cycle of identities ends rather than looping.
    MetaGraphDef loop = meta("a:0", new FunctionDef[0], node("a", "Identity", "b"), node("b", "Identity", "a"));
    assertEquals(Op.UNKNOWN, OutputEvidence.fromGraph(loop, "serving_default", "out").op());
  }

  @Test
  void unknownSignatureOrOutputIsNamed() {
    MetaGraphDef plain = meta("x:0", new FunctionDef[0], node("x", "Placeholder"));
    assertThrows(IllegalArgumentException.class, () -> OutputEvidence.fromGraph(plain, "classify", "out"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> OutputEvidence.fromGraph(plain, "serving_default", "probs"));
    assertEquals("signature 'serving_default' has no output 'probs'; outputs: [out]", e.getMessage());
  }

  @Test
  void valuesOfProbabilitiesLogProbabilitiesAndLogits() {
    assertEquals(Values.PROBABILITIES, OutputEvidence.fromValues(new float[] {0.2f, 0.8f, 1f, 0f}, 2));
    assertEquals(
        Values.LOG_PROBABILITIES,
        OutputEvidence.fromValues(new float[] {(float) Math.log(0.2), (float) Math.log(0.8), 0f, Float.NEGATIVE_INFINITY}, 2));
    assertEquals(Values.LOGITS, OutputEvidence.fromValues(new float[] {2f, -1f, 0.5f, 0.5f}, 2));
    // One row that is not a distribution is enough.
    assertEquals(Values.LOGITS, OutputEvidence.fromValues(new float[] {0.5f, 0.5f, 0.5f, 0.6f}, 2));
    assertEquals(Values.LOGITS, OutputEvidence.fromValues(new float[] {0.5f, 0.5f, Float.NaN, 1f}, 2));
    assertEquals(Values.LOGITS, OutputEvidence.fromValues(new float[0], 2));
    // Rows summing to 1 within the tolerance, as float32 softmax rows do.
    assertEquals(Values.PROBABILITIES, OutputEvidence.fromValues(new float[] {0.33333f, 0.33333f, 0.33334f}, 3));
  }
}
