package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The teacher's signature, input, output, output kind and unsafe-op flags, on the command line and in a config. */
class TeacherFlagsTest {
  @TempDir Path dir;

  /** {@code shared/<name>}, or null where the shared folder is absent. */
  private static Path shared(String name) {
    return SharedData.find(name).orElse(null);
  }

  @Test
  void badKindAndContradictoryAliasesExitTwoWithOneLine() {
    var r = DistillCommandTest.tfkd(DistillCommandTest.distill(dir.resolve("run"), "--teacher-output-kind", "SCORES"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--teacher-output-kind") && r.err().contains("SCORES"), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    var e = DistillCommandTest.tfkd(
        "evaluate", "--model", DistillCommandTest.teacher().toString(), "--data", "gmm", "--output", "logits",
        "--teacher-output", "probabilities");
    assertEquals(2, e.code(), e.err());
    var missing = DistillCommandTest.tfkd(DistillCommandTest.distill(dir.resolve("run2"), "--teacher-input", "nope"));
    assertEquals(2, missing.code(), missing.err());
    assertTrue(missing.err().contains("no input 'nope'"), missing.err());
  }

  @Test
  void evaluateAcceptsTheTeacherNames() {
    var r = DistillCommandTest.tfkd(
        "evaluate", "--model", DistillCommandTest.teacher().toString(), "--data", "gmm", "--teacher-output",
        "probabilities", "--teacher-output-kind", "AUTO", "--teacher-signature", "serving_default");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("output: output 'probabilities' read as probabilities (Softmax"), r.out());
  }

  @Test
  void kerasTeacherFromAConfigIsReadAsProbabilities() throws Exception {
    Path keras = shared("savedmodels/keras-mnist-dense/mnist_model");
    Path mnist = shared("datasets/mnist-10k/t10k-images-idx3-ubyte.gz");
    assumeTrue(keras != null && mnist != null, "needs ../shared/savedmodels and ../shared/datasets/mnist-10k");
    Path run = dir.resolve("keras");
    Path config = dir.resolve("run.pbtxt");
    Files.writeString(
        config,
        "data { train: \"" + mnist + "\" }\nmodel: \"mlp:16\"\ntraining { epochs: 1 threads: 1 }\n"
            + "output { run_dir: \"" + run + "\" }\n"
            + "distillation { teacher: \"" + keras + "\" teacher_signature: \"serving_default\""
            + " teacher_input: \"flatten_input\" teacher_output: \"dense_1\" teacher_output_kind: \"AUTO\""
            + " allow_unsafe_ops: false }\n");
    var r = DistillCommandTest.tfkd("distill", "--config", config.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("teacher output 'dense_1' read as probabilities (Softmax"), r.out());
    String results = Files.readString(run.resolve("results.json"));
    assertTrue(results.contains("\"teacher_output\":\"output 'dense_1' read as probabilities"), results);
    String manifest;
    try (var files = Files.walk(run.resolve("export"))) {
      Path m = files.filter(p -> p.getFileName().toString().endsWith(".json") && p.toString().contains("manifest"))
          .findFirst().orElseThrow();
      manifest = Files.readString(m);
    }
    assertTrue(manifest.contains("read as probabilities"), manifest);
  }
}
