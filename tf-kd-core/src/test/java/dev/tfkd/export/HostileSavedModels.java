package dev.tfkd.export;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Builds hostile SavedModels from real ones by editing their protocol buffers (for the safety tests). */
final class HostileSavedModels {
  private HostileSavedModels() {}

  /** The I/O an injected node does. */
  enum Io {
    WRITE_FILE("WriteFile"),
    SAVE_V2("SaveV2"),
    READ_FILE("ReadFile");

    final String op;

    Io(String op) {
      this.op = op;
    }
  }

  /** Where the I/O node sits: the main graph, or a library function reached in one of several ways. */
  enum Placement {
    MAIN,
    /** A function called by a StatefulPartitionedCall in the main graph. */
    FUNCTION,
    /** A function called (op = its name) from a function called by a StatefulPartitionedCall. */
    NESTED,
    /** The then-branch of an If in the main graph. */
    IF_BRANCH,
    /** One of the functions of a Case's list of branches. */
    CASE_LIST
  }

  /** The node the injected code hangs on: run it and the I/O runs. */
  record Injected(String entryNode, String ioNode, String function) {}

  static TensorProto strings(String... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_STRING);
    if (values.length != 1) {
      t.setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(values.length)));
    }
    for (String v : values) {
      t.addStringVal(ByteString.copyFromUtf8(v));
    }
    return t.build();
  }

  static NodeDef constant(String name, TensorProto value) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(value.getDtype()).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(value).build())
        .build();
  }

  private static AttrValue types(DataType... t) {
    return AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addAllType(List.of(t))).build();
  }

  private static AttrValue func(String name) {
    return AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(name)).build();
  }

  /** The nodes doing {@code io} on {@code canary}; the I/O node is named {@code prefix + "_io"}. */
  static List<NodeDef> ioNodes(Io io, String prefix, Path canary, boolean inFunction) {
    String out = inFunction ? ":output:0" : "";
    List<NodeDef> nodes = new ArrayList<>();
    nodes.add(constant(prefix + "_path", strings(canary.toString())));
    NodeDef.Builder n = NodeDef.newBuilder().setName(prefix + "_io").setOp(io.op).addInput(prefix + "_path" + out);
    switch (io) {
      case WRITE_FILE -> {
        nodes.add(constant(prefix + "_data", strings("owned")));
        n.addInput(prefix + "_data" + out);
      }
      case SAVE_V2 -> {
        nodes.add(constant(prefix + "_names", strings("x", "y")));
        nodes.add(constant(prefix + "_slices", strings("", "")));
        nodes.add(constant(prefix + "_value", TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).addFloatVal(1).build()));
        n.addInput(prefix + "_names" + out).addInput(prefix + "_slices" + out)
            .addInput(prefix + "_value" + out).addInput(prefix + "_value" + out)
            .putAttr("dtypes", types(DataType.DT_FLOAT, DataType.DT_FLOAT));
      }
      case READ_FILE -> {
        // The output is unused: as a control input in the main graph the read still runs.
      }
    }
    nodes.add(n.build());
    return nodes;
  }

  static FunctionDef function(String name, List<NodeDef> body) {
    return FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName(name).setIsStateful(true))
        .addAllNodeDef(body)
        .build();
  }

  /** Adds the I/O to {@code graph} at {@code placement}; returns what to wire and what the scan must name. */
  static Injected inject(GraphDef.Builder graph, Io io, Placement placement, Path canary) {
    String entry = "evil_entry";
    switch (placement) {
      case MAIN -> {
        ioNodes(io, "evil", canary, false).forEach(graph::addNode);
        return new Injected("evil_io", "evil_io", "");
      }
      case FUNCTION, IF_BRANCH, CASE_LIST -> {
        graph.getLibraryBuilder().addFunction(function("evil_fn", ioNodes(io, "evil", canary, true)));
        NodeDef.Builder call = NodeDef.newBuilder().setName(entry)
            .putAttr("Tin", types()).putAttr("Tout", types());
        if (placement == Placement.FUNCTION) {
          call.setOp("StatefulPartitionedCall").putAttr("f", func("evil_fn"));
        } else if (placement == Placement.IF_BRANCH) {
          graph.addNode(constant("evil_cond", TensorProto.newBuilder().setDtype(DataType.DT_BOOL).addBoolVal(true).build()));
          call.setOp("If").addInput("evil_cond").putAttr("Tcond", AttrValue.newBuilder().setType(DataType.DT_BOOL).build())
              .putAttr("then_branch", func("evil_fn")).putAttr("else_branch", func("evil_fn"));
        } else {
          graph.addNode(constant("evil_branch", TensorProto.newBuilder().setDtype(DataType.DT_INT32).addIntVal(0).build()));
          call.setOp("Case").addInput("evil_branch").putAttr("branches", AttrValue.newBuilder()
              .setList(AttrValue.ListValue.newBuilder().addFunc(NameAttrList.newBuilder().setName("evil_fn"))).build());
        }
        graph.addNode(call);
        return new Injected(entry, "evil_io", "evil_fn");
      }
      case NESTED -> {
        graph.getLibraryBuilder().addFunction(function("evil_inner", ioNodes(io, "evil", canary, true)));
        graph.getLibraryBuilder().addFunction(
            function("evil_outer", List.of(NodeDef.newBuilder().setName("inner_call").setOp("evil_inner").build())));
        graph.addNode(NodeDef.newBuilder().setName(entry).setOp("StatefulPartitionedCall")
            .putAttr("Tin", types()).putAttr("Tout", types()).putAttr("f", func("evil_outer")));
        return new Injected(entry, "evil_io", "evil_inner");
      }
    }
    throw new AssertionError(placement);
  }

  /** Adds {@code ^control} to the inputs of main-graph node {@code node} (a node or tensor name). */
  static void addControl(GraphDef.Builder graph, String node, String control) {
    String name = GraphSafety.nodeName(node);
    for (NodeDef.Builder n : graph.getNodeBuilderList()) {
      if (n.getName().equals(name)) {
        n.addInput("^" + control);
        return;
      }
    }
    throw new IllegalArgumentException("no node " + name);
  }

  /** The main-graph node of the first output of {@code signature}. */
  static String outputNode(MetaGraphDef.Builder meta, String signature) {
    SignatureDef sig = meta.getSignatureDefOrThrow(signature);
    return GraphSafety.nodeName(sig.getOutputsMap().values().iterator().next().getName());
  }

  /** Wires {@code entry} so the loader's init step runs it (the init signature's op, or the main-op collection). */
  static void wireIntoInit(MetaGraphDef.Builder meta, String entry) {
    if (meta.containsSignatureDef(GraphSafety.INIT_SIGNATURE)) {
      addControl(meta.getGraphDefBuilder(), outputNode(meta, GraphSafety.INIT_SIGNATURE), entry);
    } else if (meta.containsCollectionDef("saved_model_main_op")) {
      String mainOp = meta.getCollectionDefOrThrow("saved_model_main_op").getNodeList().getValue(0);
      addControl(meta.getGraphDefBuilder(), mainOp, entry);
    } else {
      meta.putCollectionDef("saved_model_main_op", nodeList(entry));
    }
  }

  static CollectionDef nodeList(String... nodes) {
    return CollectionDef.newBuilder().setNodeList(CollectionDef.NodeList.newBuilder().addAllValue(List.of(nodes))).build();
  }

  static TensorInfo tensor(String name) {
    return TensorInfo.newBuilder().setName(name).setDtype(DataType.DT_FLOAT).build();
  }

  /** Renames every library function to {@code name + suffix}, everywhere it is named. */
  static void renameFunctions(GraphDef.Builder graph, String suffix) {
    Map<String, String> names = new HashMap<>();
    graph.getLibrary().getFunctionList().forEach(f -> names.put(f.getSignature().getName(), f.getSignature().getName() + suffix));
    UnaryOperator<NodeDef> fix = n -> {
      NodeDef.Builder b = n.toBuilder();
      if (names.containsKey(n.getOp())) {
        b.setOp(names.get(n.getOp()));
      }
      n.getAttrMap().forEach((k, v) -> b.putAttr(k, rename(v, names)));
      return b.build();
    };
    List<NodeDef> main = graph.getNodeList().stream().map(fix).toList();
    graph.clearNode().addAllNode(main);
    var lib = graph.getLibraryBuilder();
    for (FunctionDef.Builder f : lib.getFunctionBuilderList()) {
      f.getSignatureBuilder().setName(names.get(f.getSignature().getName()));
      List<NodeDef> body = f.getNodeDefList().stream().map(fix).toList();
      f.clearNodeDef().addAllNodeDef(body);
    }
    for (var g : lib.getGradientBuilderList()) {
      g.setFunctionName(names.getOrDefault(g.getFunctionName(), g.getFunctionName()));
      g.setGradientFunc(names.getOrDefault(g.getGradientFunc(), g.getGradientFunc()));
    }
  }

  private static AttrValue rename(AttrValue v, Map<String, String> names) {
    AttrValue.Builder b = v.toBuilder();
    if (v.hasFunc()) {
      b.setFunc(rename(v.getFunc(), names));
    }
    if (v.hasList() && v.getList().getFuncCount() > 0) {
      var list = b.getListBuilder();
      List<NameAttrList> fs = v.getList().getFuncList().stream().map(f -> rename(f, names)).toList();
      list.clearFunc().addAllFunc(fs);
    }
    return b.build();
  }

  private static NameAttrList rename(NameAttrList f, Map<String, String> names) {
    NameAttrList.Builder b = f.toBuilder().setName(names.getOrDefault(f.getName(), f.getName()));
    f.getAttrMap().forEach((k, v) -> b.putAttr(k, rename(v, names)));
    return b.build();
  }

  /** Writes {@code saved} to {@code dir} with copies of {@code from}'s variables/ and assets/. */
  static Path write(SavedModel saved, Path from, Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.write(dir.resolve("saved_model.pb"), saved.toByteArray());
    for (String sub : List.of("variables", "assets")) {
      Path src = from.resolve(sub);
      if (Files.isDirectory(src)) {
        try (Stream<Path> files = Files.walk(src)) {
          for (Path p : files.toList()) {
            Path target = dir.resolve(sub).resolve(src.relativize(p).toString());
            if (Files.isDirectory(p)) {
              Files.createDirectories(target);
            } else {
              Files.copy(p, target);
            }
          }
        }
      }
    }
    return dir;
  }

  static SavedModel read(Path dir) throws IOException {
    return SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
  }
}
