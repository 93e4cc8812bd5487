package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.teacher.SavedModelTeacher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.types.TFloat32;

class GraphSafetyTest {

  /**
   * A SavedModel computing {@code logits = inputs @ w} whose graph also holds a WriteFile node (as a control input of
   * the output when {@code onPath}, so calling the model would write {@code victim}).
   */
  static Path modelWithWriteFile(Path dir, Path victim) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("inputs").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      Variable<TFloat32> w = tf.withName("w").variable(tf.constant(new float[][] {{1, 0}, {0, 1}, {1, 1}}));
      var write = tf.withName("evil").io.writeFile(tf.constant(victim.toString()), tf.constant("owned"));
      Operand<TFloat32> logits = tf.withControlDependencies(List.of(write)).withName("logits").linalg.matMul(x, w);
      try (Session s = new Session(g)) {
        try (var r = s.runner().fetch(w).run()) {
          // Runs the pending initializer of w before the export saves it.
        }
        Signature sig =
            Signature.builder().methodName("tensorflow/serving/predict").input("inputs", x).output("logits", logits).build();
        SavedModelBundle.exporter(dir.toString()).withTags("serve").withFunction(SessionFunction.create(sig, s)).export();
      }
    }
    return dir;
  }

  @Test
  void refusesAModelThatWritesFilesAndNamesOpAndNode(@TempDir Path tmp) throws Exception {
    Path victim = tmp.resolve("victim.txt");
    Path dir = modelWithWriteFile(tmp.resolve("evil/1"), victim);
    List<GraphSafety.Finding> findings = GraphSafety.scan(dir, "serve");
    assertEquals(List.of("WriteFile@evil@"), names(findings));
    assertEquals("op WriteFile at node 'evil' in the main graph (files; run by signature 'serving_default')",
        findings.get(0).describe());

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(dir));
    assertTrue(e.getMessage().contains("op WriteFile at node 'evil'"), e.getMessage());
    assertTrue(e.getMessage().contains("--allow-unsafe-ops"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SavedModelTeacher.load(dir));
    assertTrue(e.getMessage().contains("WriteFile"), e.getMessage());
    assertFalse(Files.exists(victim), "refusal must come before anything runs");

    // Trusted on request: the model loads and, being what it is, writes the file when called.
    try (Predictor p = Predictor.load(dir, Predictor.Options.DEFAULT.withAllowUnsafeOps(true))) {
      assertEquals(1, p.unsafeOps().size());
      float[] logits = p.logits(new float[] {1, 2, 3}, 1);
      assertEquals(4f, logits[0]);
      assertEquals(5f, logits[1]);
    }
    assertTrue(Files.exists(victim));
  }

  @Test
  void checkpointWritesAreAllowedOnlyOnTheSavePathWhateverSaverDefSays(@TempDir Path tmp) throws Exception {
    Path dir = modelWithWriteFile(tmp.resolve("m/1"), tmp.resolve("v"));
    var meta = GraphSafety.metaGraph(dir, "serve");
    // The saver's own SaveV2 / RestoreV2 pass.
    assertEquals(List.of("WriteFile@evil@"), names(GraphSafety.scan(meta)));
    var save =
        meta.getGraphDef().getNodeList().stream().filter(n -> n.getOp().equals("SaveV2")).findFirst().orElseThrow();
    // A second SaveV2 that nothing runs never runs: present is not refused (this rule replaced "any copy is refused").
    var graph = meta.getGraphDef().toBuilder();
    graph.addNode(save.toBuilder().setName("rogue_save"));
    assertEquals(List.of("WriteFile@evil@"), names(GraphSafety.scan(meta.toBuilder().setGraphDef(graph).build())));
    // Wired into the signature's path it runs on every call: refused, even with the author's saver_def naming it.
    HostileSavedModels.addControl(graph, "logits", "rogue_save");
    var rogue = meta.toBuilder().setGraphDef(graph);
    rogue.getSaverDefBuilder().setSaveTensorName("rogue_save");
    List<GraphSafety.Finding> findings = GraphSafety.scan(rogue.build());
    assertTrue(names(findings).contains("SaveV2@rogue_save@"), findings.toString());
    assertTrue(findings.stream().anyMatch(f -> f.reason().contains("checkpoint-write; run by signature 'serving_default'")),
        findings.toString());
  }

  static List<String> names(List<GraphSafety.Finding> findings) {
    return findings.stream().map(f -> f.op() + "@" + f.node() + "@" + f.function()).toList();
  }

  /** A TensorFlow 2 style graph: the work happens in library functions reached through StatefulPartitionedCall. */
  @Test
  void judgesFunctionBodiesByWhatReachesThem() {
    var fn = (java.util.function.BiFunction<String, List<NodeDef>, FunctionDef>)
        (name, nodes) -> FunctionDef.newBuilder().setSignature(OpDef.newBuilder().setName(name)
            .addInputArg(OpDef.ArgDef.newBuilder().setName("file_prefix").setType(org.tensorflow.proto.DataType.DT_STRING)))
            .addAllNodeDef(nodes).build();
    NodeDef save = NodeDef.newBuilder().setName("SaveV2").setOp("SaveV2").addInput("file_prefix").build();
    NodeDef restore = NodeDef.newBuilder().setName("RestoreV2").setOp("RestoreV2").addInput("file_prefix").build();
    NodeDef write = NodeDef.newBuilder().setName("w").setOp("WriteFile").build();
    NodeDef matmul = NodeDef.newBuilder().setName("mm").setOp("MatMul").build();
    NodeDef callHelper = NodeDef.newBuilder().setName("helper_call").setOp("__inference_helper").build();
    GraphDef graph =
        GraphDef.newBuilder()
            .addNode(NodeDef.newBuilder().setName("saver_filename").setOp("Placeholder"))
            .addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder"))
            .addNode(call("StatefulPartitionedCall_1", "__inference_save", "saver_filename"))
            .addNode(call("StatefulPartitionedCall_2", "__inference_restore", "saver_filename"))
            .addNode(call("StatefulPartitionedCall", "__inference_serve", "x"))
            .setLibrary(
                FunctionDefLibrary.newBuilder()
                    .addFunction(fn.apply("__inference_save", List.of(save)))
                    .addFunction(fn.apply("__inference_restore", List.of(restore, save.toBuilder().setName("at_load").build())))
                    .addFunction(fn.apply("__inference_serve", List.of(matmul, callHelper, save.toBuilder().setName("sneaky").build())))
                    .addFunction(fn.apply("__inference_helper", List.of(write)))
                    .addFunction(fn.apply("__inference_unused", List.of(write.toBuilder().setName("never").build()))))
            .build();
    MetaGraphDef meta =
        MetaGraphDef.newBuilder()
            .setGraphDef(graph)
            .putSignatureDef("serving_default", org.tensorflow.proto.SignatureDef.newBuilder()
                .putInputs("x", HostileSavedModels.tensor("x:0"))
                .putOutputs("y", HostileSavedModels.tensor("StatefulPartitionedCall:0")).build())
            .setSaverDef(
                SaverDef.newBuilder()
                    .setFilenameTensorName("saver_filename:0")
                    .setSaveTensorName("StatefulPartitionedCall_1:0")
                    .setRestoreOpName("StatefulPartitionedCall_2"))
            .build();
    assertEquals(
        List.of("SaveV2@at_load@__inference_restore", "SaveV2@sneaky@__inference_serve", "WriteFile@w@__inference_helper"),
        names(GraphSafety.scan(meta)));
    // The restore function fed something other than the loader's file name (here the signature's input): refused.
    var swapped = meta.toBuilder();
    swapped.getGraphDefBuilder().getNodeBuilder(3).setInput(0, "x");
    assertTrue(names(GraphSafety.scan(swapped.build())).contains("RestoreV2@RestoreV2@__inference_restore"));
  }

  @Test
  void aMainGraphNodeNamedAfterAFunctionCallsItAndHostileNamesDoNotCrashTheScan() {
    FunctionDef helper = HostileSavedModels.function("helper", List.of(NodeDef.newBuilder().setName("w").setOp("WriteFile").build()));
    GraphDef graph =
        GraphDef.newBuilder()
            .addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder"))
            .addNode(NodeDef.newBuilder().setName("call").setOp("helper").addInput("x"))
            .addNode(NodeDef.newBuilder().setName("y").setOp("IdentityN").addInput("call:zz").addInput("^call"))
            .addNode(NodeDef.newBuilder().setName("r").setOp("RestoreV2").addInput("y:x:1"))
            .setLibrary(FunctionDefLibrary.newBuilder().addFunction(helper))
            .build();
    MetaGraphDef meta =
        MetaGraphDef.newBuilder()
            .setGraphDef(graph)
            .putSignatureDef("s", org.tensorflow.proto.SignatureDef.newBuilder()
                .putOutputs("y", HostileSavedModels.tensor("y:notanumber")).build())
            .setSaverDef(SaverDef.newBuilder().setFilenameTensorName("y:q").setRestoreOpName("r"))
            .build();
    // The call node itself is not an unknown op: the function's body is judged instead.
    assertEquals(List.of("RestoreV2@r@", "WriteFile@w@helper"), names(GraphSafety.scan(meta)));
    // An op ops.tsv does not list is refused where it can run, and ignored where nothing reaches it.
    var unknown = meta.toBuilder();
    unknown.getGraphDefBuilder()
        .addNode(NodeDef.newBuilder().setName("mystery").setOp("SomeFutureOp"))
        .addNode(NodeDef.newBuilder().setName("idle").setOp("SomeFutureOp"));
    HostileSavedModels.addControl(unknown.getGraphDefBuilder(), "y", "mystery");
    List<GraphSafety.Finding> findings = GraphSafety.scan(unknown.build());
    assertEquals(List.of("RestoreV2@r@", "SomeFutureOp@mystery@", "WriteFile@w@helper"), names(findings));
    assertTrue(findings.get(1).reason().startsWith("an op tf-kd does not know"), findings.get(1).reason());
  }

  private static NodeDef call(String name, String function, String... inputs) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("StatefulPartitionedCall")
        .addAllInput(List.of(inputs))
        .putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(function)).build())
        .build();
  }
}
