package dev.tfkd.run;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Augmentation;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.teacher.CachedTeacher;
import dev.tfkd.teacher.GraphTeacher;
import dev.tfkd.teacher.Teacher;
import dev.tfkd.testing.FlatMlp;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TeacherCombination;
import dev.tfkd.training.TeacherLogitCache;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several teachers through the public Distiller API. */
class SeveralTeachersDistillerTest {
  @TempDir Path work;

  private final Dataset data = new Shapes(8, 8, 1, 4).sample(64, 1, "shapes-8");
  private final GraphTeacher a = GraphTeacher.of(FrozenTeacher.initial(new FlatMlp(12), 11));
  private final GraphTeacher b = GraphTeacher.of(FrozenTeacher.initial(new FlatMlp(6), 12));

  private Distiller.Builder builder(Path runDir) {
    return Distiller.builder()
        .student(new FlatMlp(8))
        .divergence("kl(T=4)")
        .train(data)
        .validation(0.25)
        .epochs(2)
        .batchSize(16)
        .optimizer(OptimizerConfig.adam(1e-2f))
        .threads(1)
        .seed(5)
        .runDirectory(runDir)
        .noExport();
  }

  private static double[] losses(RunResult r) {
    List<TrainingListener.EpochMetrics> h = r.trained().history();
    double[] out = new double[h.size() * 3];
    for (int i = 0; i < h.size(); i++) {
      out[3 * i] = h.get(i).total();
      out[3 * i + 1] = h.get(i).hard();
      out[3 * i + 2] = h.get(i).soft();
    }
    return out;
  }

  private float[] logits(RunResult r) {
    try (InferenceModel m = r.trained().load(Trainer.sessionConfig(1))) {
      return m.logits(data);
    }
  }

  @Test
  void oneTeacherGivenTwiceEqualsThatTeacherAloneForEveryCombination() throws Exception {
    RunResult alone = builder(work.resolve("alone")).teacher(a).build().fit();
    for (TeacherCombination c :
        List.of(
            TeacherCombination.meanOfProbabilities(), TeacherCombination.meanOfLosses(),
            TeacherCombination.weighted(1f, 3f), TeacherCombination.confidence(), TeacherCombination.randomPerBatch())) {
      RunResult twice =
          builder(work.resolve("twice-" + c.mode())).teachers(List.of(a, a)).combine(c).build().fit();
      assertAllClose(losses(twice), losses(alone), 1e-5, 1e-6);
      assertAllClose(logits(twice), logits(alone), 1e-4, 1e-5);
    }
  }

  @Test
  void threeTeachersAreRecordedAndCachedLogitsAreReused() throws Exception {
    TeacherLogitCache cache = TeacherLogitCache.inMemory();
    CachedTeacher ca = new CachedTeacher(a, a.frozen().fingerprint(), cache);
    CachedTeacher cb = new CachedTeacher(b, b.frozen().fingerprint(), cache);
    Path run = work.resolve("two");
    RunResult r =
        builder(run).teachers(List.of(ca, cb, ca)).combine(TeacherCombination.confidence()).build().fit();
    String config = Files.readString(run.resolve("run_config.pbtxt"));
    assertEquals(3, config.split("teachers \\{", -1).length - 1, config);
    assertTrue(config.contains("teacher_combination: \"ca-mkd\""), config);
    // Two datasets (training part, held-out part) for two distinct teachers: four computations; teacher a's second
    // place reads both of its entries from the cache.
    assertEquals("2 hits, 4 misses", ca.cacheStatistics());
    assertEquals(2, r.trained().history().size());
  }

  @Test
  void withAugmentationEveryTeacherAnswersEveryBatchAndCachedTeachersAreRefused() throws Exception {
    Augmentation aug = new Augmentation(2, true);
    RunResult r =
        builder(work.resolve("aug")).augment(aug).teachers(List.of(a, b)).combine(TeacherCombination.meanOfProbabilities())
            .build().fit();
    assertEquals(2, r.trained().history().size());
    Teacher cached = new CachedTeacher(a, a.frozen().fingerprint(), TeacherLogitCache.inMemory());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> builder(work.resolve("refused")).augment(aug).teachers(List.of(b, cached)).build().fit());
    assertTrue(e.getMessage().contains("cached teacher"), e.getMessage());
  }
}
