package dev.tfkd.cli;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static dev.tfkd.cli.DemoCommandTest.tfkd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import dev.tfkd.io.AtomicFiles;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.export.ExportOptions;
import dev.tfkd.export.Manifest;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.models.Mlp;
import dev.tfkd.testing.Assertions;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;

class ServingCommandsTest {
  @TempDir static Path root;
  static Path model;
  static Dataset test;
  static double accuracy;

  /** A small MLP on the built-in gmm data, exported with a manifest and warm-up records. */
  @BeforeAll
  static void export() throws Exception {
    Dataset train = DataSources.load("gmm", null, DataSources.Split.TRAIN).select(java.util.stream.IntStream.range(0, 2000).toArray(), "gmm-train-2000");
    test = DataSources.load("gmm", null, DataSources.Split.TEST);
    TrainedModel m =
        new Trainer(new TrainConfig(3, 64, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(Mlp.of(20, 10, 16), train, new CrossEntropy(), null, Files.createDirectories(root.resolve("work")));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      accuracy = Metrics.evaluate(im.logits(test), test).accuracy();
      Manifest manifest = new Manifest().put("seed", 1).dataset("train", train);
      ServingExporter.exportNextVersion(im, root.resolve("models"), "mlp", ExportOptions.withManifest(manifest).withWarmup(test, 2, 4));
    }
    model = root.resolve("models/mlp");
  }

  @Test
  void inspectDescribesAndCheckPassesOnOwnExports() {
    var r = tfkd("inspect", "--check", model.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("signature classify (tensorflow/serving/classify)"), r.out());
    assertTrue(r.out().contains("input  inputs: inputs:0 DT_FLOAT [-1, 20]"), r.out());
    // Two predict and two classify requests.
    assertTrue(r.out().contains("warm-up records: 4"), r.out());
    assertTrue(r.out().contains("\"tfkd-manifest/1\""), r.out());
    assertTrue(r.out().contains("check: OK"), r.out());
  }

  @Test
  void checkFailsWithTheReasonOnBrokenExports(@TempDir Path tmp) throws Exception {
    Path good = model.resolve("1");
    // Not in an integer version directory.
    Path named = copy(good, tmp.resolve("a/latest"));
    expectCheckFailure(named, "not an integer version directory");
    // Variables missing.
    Path noVars = copy(good, tmp.resolve("b/1"));
    AtomicFiles.deleteRecursively(noVars.resolve("variables"));
    expectCheckFailure(noVars, "no variables/variables.index");
    // No serve tag, wrong method name, no serving_default.
    expectCheckFailure(rewrite(good, tmp.resolve("c/1"), s -> s.getMetaGraphsBuilder(0).getMetaInfoDefBuilder().clearTags().addTags("train")), "no meta graph tagged 'serve'");
    expectCheckFailure(rewrite(good, tmp.resolve("d/1"), s -> s.getMetaGraphsBuilder(0).putSignatureDef("serving_default",
        s.getMetaGraphs(0).getSignatureDefOrThrow("serving_default").toBuilder().setMethodName("").build())), "method name ''");
    expectCheckFailure(rewrite(good, tmp.resolve("d2/1"), s -> s.getMetaGraphsBuilder(0).putSignatureDef("classify",
        s.getMetaGraphs(0).getSignatureDefOrThrow("classify").toBuilder().putOutputs("classes",
            s.getMetaGraphs(0).getSignatureDefOrThrow("serving_default").getOutputsOrThrow("classes")).build())),
        "'classes' is DT_INT64, TensorFlow Serving requires DT_STRING");
    expectCheckFailure(rewrite(good, tmp.resolve("e/1"), s -> s.getMetaGraphsBuilder(0).removeSignatureDef("serving_default")), "no 'serving_default' signature");
    // No saved_model.pb at all, or garbage in it.
    var r = tfkd("inspect", "--check", Files.createDirectories(tmp.resolve("f/1")).toString());
    assertEquals(2, r.code());
    Path garbage = copy(good, tmp.resolve("g/1"));
    Files.write(garbage.resolve("saved_model.pb"), new byte[] {(byte) 0xff, 1, 2, 3});
    expectCheckFailure(garbage, "not a valid SavedModel protocol buffer");
    // A damaged warm-up file.
    Path warm = copy(good, tmp.resolve("h/1"));
    byte[] w = Files.readAllBytes(warm.resolve("assets.extra/tf_serving_warmup_requests"));
    w[w.length - 9] ^= 1;
    Files.write(warm.resolve("assets.extra/tf_serving_warmup_requests"), w);
    expectCheckFailure(warm, "damaged record 3 (bad data CRC)");
  }

  /**
   * A corrupt model (its variables truncated, or a tensor's bytes changed) is bad input on every command that loads
   * one: exit 2 and one line naming the model directory and the damage, never TensorFlow's anonymous message.
   */
  @Test
  void corruptModelExitsTwoNamingTheModelOnEveryCommandThatLoadsOne(@TempDir Path tmp) throws Exception {
    Path truncated = copy(model.resolve("1"), tmp.resolve("t/1"));
    Path data = truncated.resolve("variables/variables.data-00000-of-00001");
    Files.write(data, java.util.Arrays.copyOf(Files.readAllBytes(data), (int) Files.size(data) - 9));
    Path flipped = copy(model.resolve("1"), tmp.resolve("f/1"));
    byte[] b = Files.readAllBytes(flipped.resolve("variables/variables.data-00000-of-00001"));
    b[40] ^= 4;
    Files.write(flipped.resolve("variables/variables.data-00000-of-00001"), b);
    for (Path bad : List.of(truncated, flipped)) {
      String why = bad == truncated ? "beyond the end of variables.data-00000-of-00001" : "do not match the index's CRC32C";
      List<String[]> commands =
          List.of(
              new String[] {"evaluate", "--model", bad.toString(), "--data", "gmm"},
              new String[] {"predict", "--model", bad.toString(), "--data", "gmm"},
              new String[] {"inspect", "--check", bad.toString()},
              new String[] {"distill", "--teacher", bad.toString(), "--train", "gmm", "--model", "mlp:4", "--epochs", "1",
                  "--threads", "1", "--run-dir", tmp.resolve("run").toString()});
      for (String[] c : commands) {
        var r = tfkd(c);
        assertEquals(2, r.code(), String.join(" ", c) + ": " + r.err());
        String line = r.err().lines().filter(l -> l.startsWith("tfkd ")).findFirst().orElse("");
        assertTrue(line.contains(bad.toString()) && line.contains(why), String.join(" ", c) + ": " + r.err());
        assertFalse(r.err().contains("Read less bytes"), r.err());
      }
      assertFalse(Files.exists(tmp.resolve("run")), "distill left a run directory behind");
    }
  }

  @Test
  void warmupBatchSizesReachTheExportedRecords(@TempDir Path tmp) throws Exception {
    var r = tfkd("train-teacher", "--train", "gmm", "--model", "mlp:4", "--epochs", "1", "--threads", "1",
        "--run-dir", tmp.resolve("run").toString(), "--export-dir", tmp.resolve("export").toString(),
        "--warmup-batch-sizes", "1,8,32");
    assertEquals(0, r.code(), r.err());
    Path v;
    try (Stream<Path> found = Files.walk(tmp.resolve("export"))) {
      v = found.filter(p -> p.endsWith("saved_model.pb")).findFirst().orElseThrow().getParent();
    }
    var check = tfkd("inspect", "--check", v.toString());
    assertEquals(0, check.code(), check.err());
    // Ten predict and ten classify requests per batch size.
    assertTrue(check.out().contains("warm-up records: 60"), check.out());
    assertTrue(Files.readString(tmp.resolve("run/run_config.pbtxt")).contains("warmup_batch_sizes: 32"));
    var bad = tfkd("train-teacher", "--train", "gmm", "--model", "mlp:4", "--run-dir", tmp.resolve("run2").toString(),
        "--warmup-batch-sizes", "8,8");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--warmup-batch-sizes repeat"), bad.err());
  }

  @Test
  void leftoverTemporaryDirectoryIsAWarningNotAFailure(@TempDir Path tmp) throws Exception {
    Path base = tmp.resolve("m");
    copy(model.resolve("1"), base.resolve("1"));
    Files.createDirectories(base.resolve(".tmp-2-0000"));
    var r = tfkd("inspect", "--check", base.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("from an interrupted export"), r.err());
  }

  private static void expectCheckFailure(Path dir, String reason) {
    var r = tfkd("inspect", "--check", dir.toString());
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains(reason), "expected '" + reason + "' in: " + r.err());
    // Without --check the problem is shown, but the command succeeds.
    assertEquals(0, tfkd("inspect", dir.toString()).code());
  }

  private static Path rewrite(Path from, Path to, java.util.function.Consumer<SavedModel.Builder> edit) throws Exception {
    copy(from, to);
    SavedModel.Builder b = SavedModel.parseFrom(Files.readAllBytes(to.resolve("saved_model.pb"))).toBuilder();
    edit.accept(b);
    Files.write(to.resolve("saved_model.pb"), b.build().toByteArray());
    return to;
  }

  static Path copy(Path from, Path to) throws Exception {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
    return to;
  }

  @Test
  void predictWritesCsvAndJsonLinesAndEvaluateMatchesTheTrainingSide(@TempDir Path tmp) throws Exception {
    var csv = tfkd("predict", "--model", model.toString(), "--data", "gmm", "--batch-size", "333");
    assertEquals(0, csv.code(), csv.err());
    List<String> lines = csv.out().lines().toList();
    assertEquals(test.size() + 1, lines.size());
    assertTrue(lines.get(0).startsWith("index,class,label,name,p0,"), lines.get(0));
    long correct = lines.stream().skip(1).map(l -> l.split(",")).filter(f -> f[1].equals(f[2])).count();
    assertAllClose((double) correct / test.size(), accuracy, 0, 1e-9);

    Path out = tmp.resolve("p.jsonl");
    var jsonl = tfkd("predict", "--model", model.resolve("1").toString(), "--data", "gmm", "--format", "jsonl", "--out", out.toString());
    assertEquals(0, jsonl.code(), jsonl.err());
    List<String> j = Files.readAllLines(out);
    assertEquals(test.size(), j.size());
    assertTrue(j.get(0).startsWith("{\"index\":0,\"class\":"), j.get(0));

    var ev = tfkd("evaluate", "--model", model.toString(), "--data", "gmm", "--json");
    assertEquals(0, ev.code(), ev.err());
    assertTrue(ev.out().contains("\"accuracy\": " + accuracy), ev.out());
    assertTrue(ev.out().contains("\"klToPosterior\": "), ev.out());
    var text = tfkd("evaluate", "--model", model.toString(), "--data", "gmm");
    assertTrue(text.out().contains(String.format(Locale.ROOT, "accuracy: %.6f", accuracy)), text.out());
    // tf-kd exports a MatMul/BiasAdd 'logits' output: the graph says logits and the values agree.
    assertTrue(text.out().contains("output: output 'logits' read as logits ("), text.out());
    assertTrue(text.out().contains("confirmed by the values of the first batch"), text.out());

    var bad = tfkd("predict", "--model", model.toString(), "--data", "gmm", "--format", "xml");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--format must be csv or jsonl"), bad.err());
    assertEquals(2, tfkd("predict", "--model", tmp.resolve("nope").toString(), "--data", "gmm").code());
  }

  @Test
  void predictRefusesAModelThatWritesFilesUnlessAllowed(@TempDir Path tmp) throws Exception {
    Path victim = tmp.resolve("victim");
    Path evil = tmp.resolve("evil/1");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("inputs").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 20)));
      var write = tf.withName("exfiltrate").io.writeFile(tf.constant(victim.toString()), tf.constant("x"));
      var w = tf.variable(tf.zeros(tf.constant(new long[] {20, 10}), TFloat32.class));
      var logits = tf.withControlDependencies(List.of(write)).withName("logits").linalg.matMul(x, w);
      try (Session s = new Session(g)) {
        try (var r = s.runner().fetch(w).run()) {
          // Initialises w before it is saved.
        }
        Signature sig = Signature.builder().methodName("tensorflow/serving/predict").input("inputs", x).output("logits", logits).build();
        SavedModelBundle.exporter(evil.toString()).withTags("serve").withFunction(SessionFunction.create(sig, s)).export();
      }
    }
    var r = tfkd("predict", "--model", evil.toString(), "--data", "gmm");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("op WriteFile at node 'exfiltrate'"), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertFalse(Files.exists(victim));
    var check = tfkd("inspect", "--check", evil.toString());
    assertEquals(0, check.code(), check.err());
    assertTrue(check.err().contains("warning") && check.err().contains("WriteFile"), check.err());
    var allowed = tfkd("evaluate", "--model", evil.toString(), "--data", "gmm", "--allow-unsafe-ops");
    assertEquals(0, allowed.code(), allowed.err());
    assertTrue(Files.exists(victim));
  }

  @Test
  void servingConfigListsEveryModelDirectory(@TempDir Path tmp) throws Exception {
    var r = tfkd("export", "--serving-config", model.getParent().toString(), "--base-path", "/models/", "--out", tmp.resolve("models.config").toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(
        "model_config_list {\n  config {\n    name: \"mlp\"\n    base_path: \"/models/mlp\"\n    model_platform: \"tensorflow\"\n  }\n}\n",
        Files.readString(tmp.resolve("models.config")));
    assertEquals(2, tfkd("export", "--serving-config", tmp.toString()).code());
  }
}
