package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.tensorflow.types.TFloat32;

/**
 * A teacher whose graph writes a file: refused by default; with {@code --allow-unsafe-ops} (flag or config) it is
 * loaded, one warning line names op and node, and {@code results.json} and the manifest record it. The same for
 * {@code evaluate} and {@code predict}. Contradictory teacher settings exit 2 with one line.
 */
class UnsafeTeacherTest {
  @TempDir Path dir;

  /** A gmm-shaped model (20 features, 10 classes) whose logits depend on a WriteFile of {@code victim}. */
  private Path unsafeTeacher(Path victim) throws Exception {
    Path model = dir.resolve("unsafe/1");
    float[][] w = new float[20][10];
    for (int i = 0; i < 20; i++) {
      w[i][i % 10] = 1f;
    }
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 20)));
      var write = tf.withName("evil").io.writeFile(tf.constant(victim.toString()), tf.constant("ran"));
      Operand<TFloat32> logits = tf.withControlDependencies(List.of(write)).withName("logits").linalg.matMul(x, tf.constant(w));
      try (Session s = new Session(g)) {
        Signature sig =
            Signature.builder().methodName("tensorflow/serving/predict").input("x", x).output("logits", logits).build();
        SavedModelBundle.exporter(model.toString()).withTags("serve").withFunction(SessionFunction.create(sig, s)).export();
      }
    }
    return model;
  }

  private static String warningLines(String err) {
    return String.join("\n", err.lines().filter(l -> l.contains("warning: --allow-unsafe-ops")).toList());
  }

  private static String manifest(Path run) throws Exception {
    try (var files = Files.walk(run.resolve("export"))) {
      return Files.readString(
          files.filter(p -> p.getFileName().toString().endsWith(".json") && p.toString().contains("manifest"))
              .findFirst().orElseThrow());
    }
  }

  @Test
  void distillRefusesThenWarnsOnceAndRecordsWhatItLetThrough() throws Exception {
    Path victim = dir.resolve("victim.txt");
    Path teacher = unsafeTeacher(victim);
    String[] base = {
      "distill", "--teacher", teacher.toString(), "--train", "gmm", "--test", "gmm", "--model", "mlp:4",
      "--epochs", "1", "--threads", "1"
    };
    var refused = DistillCommandTest.tfkd(concat(base, "--run-dir", dir.resolve("refused").toString()));
    assertEquals(2, refused.code(), refused.err());
    assertTrue(refused.err().contains("WriteFile") && refused.err().contains("--allow-unsafe-ops"), refused.err());
    assertEquals(1, refused.err().strip().lines().count(), refused.err());
    assertFalse(Files.exists(victim), "refused before anything ran");

    Path run = dir.resolve("allowed");
    var r = DistillCommandTest.tfkd(concat(base, "--run-dir", run.toString(), "--allow-unsafe-ops"));
    assertEquals(0, r.code(), r.err());
    String warning = warningLines(r.err());
    assertEquals(1, warning.lines().count(), r.err());
    assertTrue(warning.startsWith("tfkd distill: warning:") && warning.contains("teacher's graph")
        && warning.contains("WriteFile (node 'evil')"), warning);
    String results = Files.readString(run.resolve("results.json"));
    assertTrue(results.contains("\"teacher_unsafe_ops\":[\"op WriteFile at node 'evil' in the main graph"), results);
    assertTrue(manifest(run).contains("\"unsafe_ops\"") && manifest(run).contains("op WriteFile at node 'evil'"),
        manifest(run));

    // A safe teacher: no warning, nothing recorded.
    Path safe = dir.resolve("safe");
    var s = DistillCommandTest.tfkd(DistillCommandTest.distill(safe, "--epochs", "1", "--allow-unsafe-ops"));
    assertEquals(0, s.code(), s.err());
    assertEquals("", warningLines(s.err()));
    assertFalse(Files.readString(safe.resolve("results.json")).contains("teacher_unsafe_ops"));
  }

  @Test
  void theConfigFileSetsEveryTeacherField() throws Exception {
    Path teacher = unsafeTeacher(dir.resolve("victim.txt"));
    Path run = dir.resolve("from-config");
    Path config = dir.resolve("run.pbtxt");
    Files.writeString(
        config,
        "data { train: \"gmm\" test: \"gmm\" }\nmodel: \"mlp:4\"\ntraining { epochs: 1 threads: 1 }\n"
            + "output { run_dir: \"" + run + "\" }\n"
            + "distillation { teacher: \"" + teacher + "\" teacher_signature: \"serving_default\""
            + " teacher_input: \"x\" teacher_output: \"logits\" teacher_output_kind: \"LOGITS\""
            + " teacher_preprocess: \"scale=2,mean=0.5\" allow_unsafe_ops: true }\n");
    var r = DistillCommandTest.tfkd("distill", "--config", config.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(1, warningLines(r.err()).lines().count(), r.err());
    String results = Files.readString(run.resolve("results.json"));
    assertTrue(results.contains("\"teacher_output\":\"output 'logits' read as logits (set explicitly); input fed as"
        + " (x * scale - mean) / std with scale=2.0,mean=0.5,std=1.0"), results);
    assertTrue(results.contains("teacher_unsafe_ops"), results);
    String m = manifest(run);
    assertTrue(m.contains("scale=2.0,mean=0.5") && m.contains("unsafe_ops"), m);
    // The saved configuration holds every teacher field, so a resumed run loads the teacher the same way.
    String saved = Files.readString(run.resolve("run_config.pbtxt"));
    for (String field : List.of("teacher_signature", "teacher_input", "teacher_output", "teacher_output_kind",
        "teacher_preprocess", "allow_unsafe_ops: true")) {
      assertTrue(saved.contains(field), field + " in\n" + saved);
    }
  }

  @Test
  void contradictorySettingsExitTwoWithOneLine() throws Exception {
    Path config = dir.resolve("bad.pbtxt");
    Files.writeString(
        config,
        "data { train: \"gmm\" test: \"gmm\" }\nmodel: \"mlp:4\"\n"
            + "distillation { teacher: \"" + DistillCommandTest.teacher() + "\" teacher_preprocess: \"scale=2,scale=3\" }\n");
    var cases = List.of(
        // One setting given two values in one spec.
        new String[] {"distill", "--config", config.toString(), "--run-dir", dir.resolve("a").toString()},
        // A binary probability read from a ten-column output.
        DistillCommandTest.distill(dir.resolve("b"), "--teacher-output-kind", "BINARY_PROBABILITY"),
        // A kind the config names wrongly.
        DistillCommandTest.distill(dir.resolve("c"), "--teacher-output-kind", "probabilities"),
        // Resuming with the teacher changed.
        new String[] {"distill", "--resume", dir.resolve("d").toString(), "--teacher-output-kind", "LOGITS"},
        // The same option under both its names.
        new String[] {"predict", "--model", DistillCommandTest.teacher().toString(), "--data", "gmm",
            "--signature", "serving_default", "--teacher-signature", "other"});
    for (String[] args : cases) {
      var r = DistillCommandTest.tfkd(args);
      assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
      assertEquals(1, r.err().strip().lines().filter(l -> !l.startsWith("Try 'tfkd")).count(), r.err());
    }
    var preprocess = DistillCommandTest.tfkd(cases.get(0));
    assertTrue(preprocess.err().contains("--teacher-preprocess") && preprocess.err().contains("given twice"),
        preprocess.err());
    var binary = DistillCommandTest.tfkd(cases.get(1));
    assertTrue(binary.err().contains("[-1, 10]") && binary.err().contains("one value per example"), binary.err());
  }

  @Test
  void evaluateAndPredictWarnOnceAndEvaluateRecordsIt() throws Exception {
    Path teacher = unsafeTeacher(dir.resolve("victim.txt"));
    var e = DistillCommandTest.tfkd("evaluate", "--model", teacher.toString(), "--data", "gmm", "--allow-unsafe-ops");
    assertEquals(0, e.code(), e.err());
    assertEquals(1, warningLines(e.err()).lines().count(), e.err());
    assertTrue(warningLines(e.err()).startsWith("tfkd evaluate: warning:")
        && warningLines(e.err()).contains("model's graph"), e.err());
    assertTrue(e.out().contains("unsafe_ops: [op WriteFile at node 'evil'"), e.out());
    var p = DistillCommandTest.tfkd(
        "predict", "--model", teacher.toString(), "--data", "gmm", "--allow-unsafe-ops", "--out",
        dir.resolve("p.csv").toString());
    assertEquals(0, p.code(), p.err());
    assertEquals(1, warningLines(p.err()).lines().count(), p.err());
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
