package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the README's Java example ({@code example.ClassifyWithTfkd}) and checks the README quotes it verbatim. */
class ReadmeExampleTest {

  @Test
  void readmeExampleRunsOnAnExport(@TempDir Path tmp) throws Exception {
    GaussianMixture g = new GaussianMixture(4, 6, 1.5, 3);
    TrainedModel model =
        new Trainer(new TrainConfig(2, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(6, 8, 4), g.sample(200, 1, "train"), new CrossEntropy(), null, tmp);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      ServingExporter.exportNextVersion(m, tmp.resolve("models"), "student");
    }
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      example.ClassifyWithTfkd.main(new String[] {tmp.resolve("models/student").toString()});
    } finally {
      System.setOut(saved);
    }
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(3, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("example 0: class [0-3] \\(p = [01]\\.[0-9]{3}\\)"), lines.get(0));
  }

  @Test
  void readmeQuotesTheExampleVerbatim() throws Exception {
    Path readme = findUp("README.md");
    Path source = Path.of("src/test/java/example/ClassifyWithTfkd.java");
    String code = Files.readString(source, StandardCharsets.UTF_8);
    // The README shows the class from its imports on (the package line and class Javadoc are left out).
    String quoted = code.substring(code.indexOf("import dev.tfkd.export.Predictor;"));
    quoted = quoted.replaceFirst("/\\*\\* The README's Java example[^\\n]*\\n", "");
    assertTrue(
        Files.readString(readme, StandardCharsets.UTF_8).contains(quoted),
        "README.md must contain, verbatim:\n" + quoted);
  }

  private static Path findUp(String name) {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve(name)) && Files.isDirectory(d.resolve("tf-kd-core"))) {
        return d.resolve(name);
      }
    }
    throw new IllegalStateException("no " + name + " above " + Path.of("").toAbsolutePath());
  }
}
