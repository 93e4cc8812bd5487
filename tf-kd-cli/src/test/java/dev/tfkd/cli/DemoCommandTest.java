package dev.tfkd.cli;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Tensors;
import dev.tfkd.testing.Assertions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.types.TFloat32;

class DemoCommandTest {

  record Run(int code, String out, String err) {}

  static Run tfkd(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Tfkd.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void demoPrintsTableAndLeavesLoadableExports(@TempDir Path root) throws Exception {
    Run r =
        tfkd(
            "demo", "--out", root.toString(), "--train-size", "4000", "--student-train-size", "1000",
            "--test-size", "500", "--teacher-epochs", "10", "--student-epochs", "30", "--threads", "1");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("| teacher "), r.out());
    assertTrue(r.out().contains("| student-distilled "), r.out());
    for (String name : new String[] {"teacher", "student-alone", "student-distilled"}) {
      Path v1 = root.resolve(name).resolve("1");
      assertTrue(Files.exists(v1.resolve("saved_model.pb")), v1 + " missing");
      assertTrue(Files.exists(v1.resolve("variables/variables.index")), v1 + " has no variables");
    }
    // The exported student predicts; the distilled student beats chance (10 classes) by far.
    Dataset test = GaussianMixture.demo().sample(300, 77, "t");
    try (SavedModelBundle b = SavedModelBundle.load(root.resolve("student-distilled/1").toString(), "serve");
        TFloat32 x = Tensors.floats(InferenceModel.batchShape(new long[] {20}, 300), test.features(), 0, 6000);
        Result out = b.function("serving_default").call(Map.of("inputs", x))) {
      TFloat32 probs = (TFloat32) out.get("probabilities").orElseThrow();
      float[] p = new float[3000];
      probs.asRawTensor().data().asFloats().read(p);
      float[] rowSums = new float[300];
      float[] ones = new float[300];
      int correct = 0;
      for (int i = 0; i < 300; i++) {
        int best = 0;
        for (int k = 0; k < 10; k++) {
          rowSums[i] += p[i * 10 + k];
          if (p[i * 10 + k] > p[i * 10 + best]) {
            best = k;
          }
        }
        ones[i] = 1f;
        correct += best == test.labels()[i] ? 1 : 0;
      }
      assertAllClose(rowSums, ones, 1e-5, 1e-5);
      assertTrue(correct > 0.5 * 300, "accuracy " + correct / 300.0);
    }
    // A second run publishes version 2 beside version 1.
    Run again = tfkd("demo", "--out", root.toString(), "--train-size", "300", "--student-train-size", "100",
        "--test-size", "100", "--teacher-epochs", "1", "--student-epochs", "1", "--threads", "1");
    assertEquals(0, again.code(), again.err());
    assertTrue(Files.exists(root.resolve("teacher/2/saved_model.pb")));
  }

  @Test
  void badOptionsExitWithTwoAndOneLine() {
    Run r = tfkd("demo", "--student-epochs", "many");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("tfkd demo: "), r.err());
    Run r2 = tfkd("demo", "--student-train-size", "0", "--train-size", "10");
    assertEquals(2, r2.code());
    assertEquals(1, r2.err().strip().lines().count(), r2.err());
  }

  @Test
  void versionNamesTensorFlow() {
    Run r = tfkd("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("TensorFlow 2.18"), r.out());
  }
}
