package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherLogitCacheTest {
  @TempDir Path dir;

  private final Dataset data = new GaussianMixture(4, 6, 1.5, 42).sample(300, 1, "train");
  private final FrozenTeacher teacher = FrozenTeacher.initial(new TinyMlp(6, 16, 4), 3);

  @Test
  void computesOnceThenAnswersFromMemory() {
    TeacherLogitCache cache = TeacherLogitCache.inMemory();
    float[] a = cache.logits(teacher, data, 64, Trainer.sessionConfig(1));
    float[] b = cache.logits(teacher, data, 64, Trainer.sessionConfig(1));
    assertSame(a, b);
    assertEquals(1, cache.misses());
    assertEquals(1, cache.hits());
    assertEquals(300 * 4, a.length);
  }

  @Test
  void fileEntriesSurviveTheCacheObjectAndCorruptOnesAreRecomputed() throws Exception {
    float[] a = TeacherLogitCache.inDirectory(dir).logits(teacher, data, 64, Trainer.sessionConfig(1));
    List<Path> files;
    try (var s = Files.list(dir)) {
      files = s.toList();
    }
    assertEquals(1, files.size(), "one entry, no temporary files left: " + files);
    assertTrue(files.get(0).getFileName().toString().endsWith(".logits"));

    TeacherLogitCache fresh = TeacherLogitCache.inDirectory(dir);
    float[] b = fresh.logits(teacher, data, 64, Trainer.sessionConfig(1));
    assertAllClose(b, a, Assertions.EXACT);
    assertEquals(1, fresh.hits());

    byte[] bytes = Files.readAllBytes(files.get(0));
    Files.write(files.get(0), java.util.Arrays.copyOf(bytes, bytes.length - 7));
    TeacherLogitCache third = TeacherLogitCache.inDirectory(dir);
    assertAllClose(third.logits(teacher, data, 64, Trainer.sessionConfig(1)), a, Assertions.EXACT);
    assertEquals(1, third.misses());
  }

  @Test
  void theCacheHoldsWhatTheTeacherComputesBatchSizeNotwithstanding() {
    float[] cached = TeacherLogitCache.inMemory().logits(teacher, data, 37, Trainer.sessionConfig(1));
    float[] direct = teacher.logits(data, 300, Trainer.sessionConfig(1));
    assertAllClose(cached, direct, Assertions.FLOAT32_TIGHT);
  }

  @Test
  void fingerprintsTellTeachersAndDataApart() {
    Dataset other = new GaussianMixture(4, 6, 1.5, 42).sample(300, 2, "train");
    assertEquals(TeacherLogitCache.fingerprint(data), TeacherLogitCache.fingerprint(data.select(
        java.util.stream.IntStream.range(0, 300).toArray(), "copy")));
    assertNotEquals(TeacherLogitCache.fingerprint(data), TeacherLogitCache.fingerprint(other));
    assertNotEquals(teacher.fingerprint(), FrozenTeacher.initial(new TinyMlp(6, 16, 4), 4).fingerprint());
    assertEquals(teacher.fingerprint(), FrozenTeacher.initial(new TinyMlp(6, 16, 4), 3).fingerprint());
  }

  @Test
  void aTeacherRestoredFromItsCheckpointComputesWhatTheInferenceModelDoes(@TempDir Path work) {
    TrainedModel trained =
        new Trainer(new TrainConfig(2, 64, OptimizerConfig.adam(1e-2f), 5, 1), List.of())
            .train(new TinyMlp(6, 16, 4), data, new CrossEntropy(), null, work);
    FrozenTeacher frozen = FrozenTeacher.fromCheckpoint(trained.architecture(), trained.checkpointPrefix(), Trainer.sessionConfig(1));
    try (InferenceModel m = trained.load(Trainer.sessionConfig(1))) {
      assertAllClose(frozen.logits(data, 64, Trainer.sessionConfig(1)), m.logits(data), Assertions.FLOAT32_TIGHT);
    }
  }
}
