package dev.tfkd.run;

import static dev.tfkd.testing.Assertions.EXACT;
import dev.tfkd.testing.StopAfterEpochs;
import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Augmentation;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.teacher.CachedTeacher;
import dev.tfkd.teacher.GraphTeacher;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.teacher.Teacher;
import dev.tfkd.testing.FlatMlp;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TeacherLogitCache;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Distillation with augmentation through the public API: the teacher runs online, resume is exact. */
class AugmentedDistillationTest {
  @TempDir Path work;

  private final Dataset data = new Shapes(8, 8, 1, 4).sample(64, 1, "shapes-8");
  private final Augmentation augmentation = new Augmentation(2, true);

  /** Augmentation set first: the setters after it rebuild the training settings and must keep it. */
  private Distiller.Builder builder(Teacher teacher, Path runDir) {
    return Distiller.builder()
        .teacher(teacher)
        .student(new FlatMlp(8))
        .divergence("kl(T=4)")
        .augment(augmentation)
        .train(data)
        .validation(0.25)
        .epochs(3)
        .batchSize(16)
        .optimizer(OptimizerConfig.adam(1e-2f))
        .threads(1)
        .seed(5)
        .runDirectory(runDir)
        .noExport();
  }

  private static List<List<Object>> figures(List<TrainingListener.EpochMetrics> h) {
    return h.stream()
        .map(
            e ->
                List.<Object>of(
                    e.epoch(), e.total(), e.hard(), e.soft(), e.accuracy(), e.globalStep(), e.validation().accuracy(),
                    e.validation().nll()))
        .toList();
  }

  private float[] logits(RunResult r) {
    try (InferenceModel m = r.trained().load(Trainer.sessionConfig(1))) {
      return m.logits(data);
    }
  }

  @Test
  void theBuilderKeepsTheAugmentationWhenOtherSettersRebuildTheTraining() {
    Distiller.Builder b = builder(GraphTeacher.of(FrozenTeacher.initial(new FlatMlp(12), 11)), work.resolve("x"));
    assertEquals(augmentation, b.training.augmentation());
    assertEquals(16, b.training.batchSize());
    assertEquals(Augmentation.NONE, b.augment(Augmentation.NONE).training.augmentation());
  }

  @Test
  void anAugmentedDistillationFromASavedModelTeacherResumesExactly() throws Exception {
    Path teacherDir = new FlatMlp(12).exportTrained(data, work.resolve("t"));
    try (SavedModelTeacher teacher = SavedModelTeacher.load(teacherDir)) {
      RunResult whole = builder(teacher, work.resolve("whole")).build().fit();
      assertEquals(3, whole.history().size());
      assertTrue(
          Files.readString(whole.runDirectory().resolve("run_config.pbtxt")).contains("augment: \"flip\""),
          "the configuration records the augmentation");

      TrainingListener stopAfterOne =
          new StopAfterEpochs(1);
      Path parts = work.resolve("parts");
      RunResult first = builder(teacher, parts).listener(PhaseListener.of(stopAfterOne)).build().fit();
      assertEquals(1, first.history().size());
      RunResult resumed = builder(teacher, parts).resume(true).build().fit();

      assertEquals(figures(whole.history()), figures(resumed.history()));
      assertAllClose(logits(resumed), logits(whole), EXACT);
      // The augmentation is really applied: without it the same run takes other steps.
      RunResult plain = builder(teacher, work.resolve("plain")).augment(Augmentation.NONE).build().fit();
      assertNotEquals(figures(whole.history()), figures(plain.history()));
    }
  }

  @Test
  void anInGraphTeacherRunsInTheStudentsGraphWithAugmentation() throws Exception {
    // The trainer refuses precomputed teacher logits with augmentation: this run finishing means the teacher ran
    // online.
    RunResult r =
        builder(GraphTeacher.of(FrozenTeacher.initial(new FlatMlp(12), 11)), work.resolve("g")).epochs(1).build().fit();
    assertEquals(1, r.history().size());
    assertNotNull(r.history().get(0).validation());
  }

  @Test
  void aCachedTeacherIsRefusedWithAugmentationBeforeAnythingIsWritten() {
    GraphTeacher inner = GraphTeacher.of(FrozenTeacher.initial(new FlatMlp(12), 11));
    CachedTeacher cached = new CachedTeacher(inner, inner.frozen().fingerprint(), TeacherLogitCache.inMemory());
    Path runDir = work.resolve("c");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> builder(cached, runDir).build().fit());
    assertTrue(e.getMessage().contains("cached teacher") && e.getMessage().contains("augment"), e.getMessage());
    assertFalse(Files.exists(runDir), "a refused run writes nothing");
  }
}
