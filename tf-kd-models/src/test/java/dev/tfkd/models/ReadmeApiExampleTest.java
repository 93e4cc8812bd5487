package dev.tfkd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.run.Distiller;
import dev.tfkd.run.RunResult;
import dev.tfkd.run.TeacherTrainer;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.teacher.Teacher;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Java API" example, compiled and run: an application with {@code tf-kd-core} and {@code
 * tf-kd-models} trains a teacher, exports it, and distils a student from the exported SavedModel.
 */
class ReadmeApiExampleTest {
  @TempDir Path work;

  @Test
  void theReadmeExampleRuns() throws Exception {
    Path models = work.resolve("models");
    // The teacher the example loads: trained and exported here (README, "Java API", first block).
    RunResult t =
        TeacherTrainer.builder()
            .architecture(Models.create("mlp:64", new long[] {20}, 10))
            .objective(TeacherObjectives.Spec.of(TeacherObjectives.Kind.MLL))
            .train(DataSources.load("gmm", null, DataSources.Split.TRAIN))
            .test(DataSources.load("gmm", null, DataSources.Split.TEST))
            .epochs(3)
            .threads(1)
            .runDirectory(work.resolve("runs/teacher"))
            .exportTo(models)
            .build()
            .fit();
    assertEquals(models.resolve("teacher-mll/1"), t.exportPath());
    Path teacherDir = t.exportPath();

    // --- README example (keep in step with README.md, "Java API") ---
    Dataset train = DataSources.load("gmm", null, DataSources.Split.TRAIN);
    Dataset test = DataSources.load("gmm", null, DataSources.Split.TEST);
    try (Teacher teacher = SavedModelTeacher.load(teacherDir)) {
      RunResult r =
          Distiller.builder()
              .teacher(teacher)
              .student(Models.create("mlp:16", teacher.inputShape(), teacher.numClasses()))
              .divergence("kl(T=4)")
              .weights(0.1f, 0.9f)
              .train(train)
              .test(test)
              .epochs(5)
              .runDirectory(work.resolve("runs/kd"))
              .exportTo(models)
              .build()
              .fit();
      System.out.println(r.score("student").orElseThrow().accuracy() + " -> " + r.exportPath());
      // --- end of README example ---

      assertEquals(models.resolve("student/1"), r.exportPath());
      assertTrue(Files.isRegularFile(r.exportPath().resolve("saved_model.pb")));
      assertTrue(r.score("teacher").orElseThrow().accuracy() > 0.5, r.scores().toString());
      assertTrue(r.score("student").orElseThrow().accuracy() > 0.5, r.scores().toString());
      assertEquals(5, r.history().size());
      assertTrue(Files.isRegularFile(r.resultsJson()));
      assertTrue(Files.isRegularFile(r.report()));
      assertEquals(java.util.List.of(), r.warnings());
    }
  }
}
