package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.GaussianMixture;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.models.Mlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Runs {@code examples/serving/serve.sh} (the README's walk-through) with {@code DRY_RUN=1} on a generated export
 * root: everything but starting the server. Its config must point at the exports, and its request bodies must fit
 * the exported signatures, with every number written with a decimal point.
 */
class ServeScriptTest {
  @Test
  void theWalkThroughMatchesTheGeneratedConfigAndSignatures(@TempDir Path root) throws Exception {
    Path script = Path.of("..", "examples", "serving", "serve.sh").toAbsolutePath().normalize();
    Assumptions.assumeTrue(Files.isRegularFile(script), "run from the tf-kd-cli module: " + script);
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")) || Files.isExecutable(Path.of("/usr/bin/bash")), "needs bash");
    GaussianMixture g = new GaussianMixture(3, 6, 1.5, 7);
    TrainedModel m =
        new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(Mlp.of(6, 3, 8), g.sample(64, 1, "train"), new CrossEntropy(), null, root.resolve("work"));
    Path exports = root.resolve("exports");
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      ServingExporter.exportNextVersion(im, exports, "student");
      ServingExporter.exportNextVersion(im, exports, "teacher");
    }
    // A model directory with an empty version: left out of the config, so the walk-through never asks for it.
    Files.createDirectories(exports.resolve("empty/1"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), exports.toString()).redirectErrorStream(true);
    pb.environment().put("DRY_RUN", "1");
    pb.environment().put("TFKD", java + " -cp " + System.getProperty("java.class.path") + " " + Tfkd.class.getName());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);

    String config = Files.readString(exports.resolve("models.config"));
    assertTrue(config.contains("name: \"student\"\n    base_path: \"/models/student\""), config);
    assertTrue(config.contains("name: \"teacher\"\n    base_path: \"/models/teacher\""), config);
    assertTrue(!config.contains("empty"), config);
    assertTrue(out.contains("-v " + exports.toRealPath() + ":/models tensorflow/serving:2.18.0 --model_config_file=/models/models.config"), out);

    for (String name : List.of("student", "teacher")) {
      SavedModel saved = SavedModel.parseFrom(Files.readAllBytes(exports.resolve(name + "/1/saved_model.pb")));
      TensorShapeProto shape =
          saved.getMetaGraphs(0).getSignatureDefOrThrow("serving_default").getInputsOrThrow("inputs").getTensorShape();
      long size = 1;
      for (int i = 1; i < shape.getDimCount(); i++) {
        size *= shape.getDim(i).getSize();
      }
      Matcher predict =
          Pattern.compile("curl -s -d '(\\{\"instances\": \\[\\[([^\\]]*)\\]\\]\\})' http://localhost:8501/v1/models/" + name + ":predict")
              .matcher(out);
      assertTrue(predict.find(), out);
      String[] values = predict.group(2).split(",");
      assertEquals(size, values.length, predict.group(1));
      for (String v : values) {
        // TensorFlow Serving's REST API reads 0 as an integer: every value carries a decimal point.
        assertTrue(v.strip().matches("-?[0-9]+\\.[0-9]+"), v);
      }
      Matcher classify =
          Pattern.compile("curl -s -d '\\{\"signature_name\": \"classify\", \"examples\": \\[\\{\"x\": \\[([^\\]]*)\\]\\}\\]\\}' http://localhost:8501/v1/models/" + name + ":classify")
              .matcher(out);
      assertTrue(classify.find(), out);
      assertEquals(size, classify.group(1).split(",").length);
      assertTrue(
          saved.getMetaGraphs(0).getSignatureDefMap().containsKey("classify")
              && saved.getMetaGraphs(0).getSignatureDefOrThrow("classify").getInputsOrThrow("inputs").getDtype()
                  == org.tensorflow.proto.DataType.DT_STRING);
    }
  }
}
