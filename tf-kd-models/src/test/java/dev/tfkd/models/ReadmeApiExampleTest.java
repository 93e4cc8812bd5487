package dev.tfkd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.run.RunResult;
import dev.tfkd.run.TeacherTrainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Java API" distillation example ({@code example.DistillWithTfkd}), run with only {@code tf-kd-core}
 * and {@code tf-kd-models} on the class path, against a teacher trained and exported here with {@link
 * TeacherTrainer}; and the README quotes it verbatim.
 */
class ReadmeApiExampleTest {
  @TempDir Path work;

  @Test
  void theReadmeExampleDistilsFromAnExportedTeacher() throws Exception {
    RunResult t =
        TeacherTrainer.builder()
            .architecture(Models.create("mlp:64", new long[] {20}, 10))
            .objective(TeacherObjectives.Spec.of(TeacherObjectives.Kind.MLL))
            .train(DataSources.load("gmm", null, DataSources.Split.TRAIN))
            .test(DataSources.load("gmm", null, DataSources.Split.TEST))
            .epochs(3)
            .threads(1)
            .runDirectory(work.resolve("runs/teacher"))
            .exportTo(work.resolve("teachers"))
            .build()
            .fit();
    assertEquals(work.resolve("teachers/teacher-mll/1"), t.exportPath());
    assertTrue(t.score("teacher-mll").orElseThrow().accuracy() > 0.5, t.scores().toString());

    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      example.DistillWithTfkd.main(new String[] {work.resolve("teachers/teacher-mll").toString(), work.toString()});
    } finally {
      System.setOut(saved);
    }
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(
        lines.get(0).matches("teacher 0\\.\\d{4}, student 0\\.\\d{4} -> .*/models/student/1"), lines.get(0));
    Path version = work.resolve("models/student/1");
    assertTrue(Files.isRegularFile(version.resolve("saved_model.pb")));
    assertTrue(Files.isRegularFile(work.resolve("runs/kd/results.json")));
    assertTrue(Files.isRegularFile(work.resolve("runs/kd/report/index.html")));
    assertTrue(Files.isRegularFile(work.resolve("runs/kd/checkpoints/latest")));
  }

  @Test
  void readmeQuotesTheExampleVerbatim() throws Exception {
    Path readme = findUp("README.md");
    String code = Files.readString(Path.of("src/test/java/example/DistillWithTfkd.java"), StandardCharsets.UTF_8);
    // The README shows the class from its imports on (the package line and class Javadoc are left out).
    String quoted = code.substring(code.indexOf("import dev.tfkd.data.io.DataSources;"));
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
