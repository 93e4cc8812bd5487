package dev.tfkd.run;

import static dev.tfkd.testing.Assertions.EXACT;
import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.teacher.CachedTeacher;
import dev.tfkd.teacher.GraphTeacher;
import dev.tfkd.teacher.Teacher;
import dev.tfkd.testing.FlatMlp;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.LogitTable;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TeacherLogitCache;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A teacher whose logits for the whole training set would not fit in memory keeps working: the logits are computed
 * batch by batch into the on-disk cache and read back row by row, and the run equals the run with the logits in
 * memory.
 */
class LargeLogitsDistillationTest {
  @TempDir Path work;

  private final Dataset data = new Shapes(8, 8, 1, 4).sample(96, 1, "shapes-8");

  private Distiller.Builder builder(Teacher teacher, Path runDir) {
    return Distiller.builder()
        .teacher(teacher)
        .student(new FlatMlp(8))
        .divergence("kl(T=4)")
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
        .map(e -> List.<Object>of(e.epoch(), e.total(), e.hard(), e.soft(), e.accuracy(), e.globalStep(), e.validation().nll()))
        .toList();
  }

  private float[] logits(RunResult r) {
    try (InferenceModel m = r.trained().load(Trainer.sessionConfig(1))) {
      return m.logits(data);
    }
  }

  private CachedTeacher cached(Path dir) {
    GraphTeacher inner = GraphTeacher.of(FrozenTeacher.initial(new FlatMlp(12), 11));
    return new CachedTeacher(inner, inner.frozen().fingerprint(), TeacherLogitCache.inDirectory(dir));
  }

  @Test
  void logitsKeptOnDiskTrainTheStudentExactlyAsLogitsInMemory() throws Exception {
    RunResult inMemory;
    try (CachedTeacher t = cached(work.resolve("cache-a"))) {
      inMemory = builder(t, work.resolve("a")).build().fit();
    }
    RunResult onDisk;
    Path cache = work.resolve("cache-b");
    try (CachedTeacher t = cached(cache)) {
      onDisk = builder(t, work.resolve("b")).logitsInMemoryLimit(0).build().fit();
      // The whole training split's logits went to one entry: 72 examples (96 less the 25% validation) x 4 classes.
      List<Path> entries;
      try (var s = Files.list(cache)) {
        entries = s.filter(p -> p.toString().endsWith(".logits")).toList();
      }
      assertTrue(entries.stream().anyMatch(p -> sizeOf(p) == 32 + 4L * 72 * 4), entries.toString());
      // A second run finds the entry instead of running the teacher again.
      long before = Long.parseLong(t.cacheStatistics().split(" ")[0]);
      builder(t, work.resolve("c")).logitsInMemoryLimit(0).build().fit();
      assertEquals(before + 1, Long.parseLong(t.cacheStatistics().split(" ")[0]), t.cacheStatistics());
    }
    assertEquals(figures(inMemory.history()), figures(onDisk.history()));
    assertAllClose(logits(onDisk), logits(inMemory), EXACT);
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      return -1;
    }
  }

  @Test
  void aTeacherWithoutAnOnDiskCacheIsRefusedBeforeAnythingIsWritten() {
    GraphTeacher plain = GraphTeacher.of(FrozenTeacher.initial(new FlatMlp(12), 11));
    Path runDir = work.resolve("refused");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> builder(plain, runDir).logitsInMemoryLimit(0).build().fit());
    assertTrue(e.getMessage().contains("kept on disk"), e.getMessage());
    assertFalse(Files.exists(runDir));
  }

  /** A deterministic stand-in teacher: logit c of an example is (c + 1) times the sum of its values, less c. */
  private static float[] sums(float[] x, int n) {
    int e = x.length / Math.max(1, n);
    float[] out = new float[n * 4];
    for (int i = 0; i < n; i++) {
      float sum = 0;
      for (int j = 0; j < e; j++) {
        sum += x[i * e + j];
      }
      for (int c = 0; c < 4; c++) {
        out[i * 4 + c] = (c + 1) * sum - c;
      }
    }
    return out;
  }

  @Test
  void aTableFilledBatchByBatchReadsTheRowsOfTheWholeArray() throws Exception {
    TeacherLogitCache cache = TeacherLogitCache.inDirectory(work.resolve("t"));
    LogitTable disk = cache.table("teacher", data, 4, 10, LargeLogitsDistillationTest::sums);
    assertTrue(disk.onDisk());
    assertEquals(96, disk.size());
    float[] rows = sums(data.features(), data.size());
    LogitTable memory = LogitTable.of(rows, 4);
    assertEquals(dev.tfkd.export.Manifest.fingerprint(rows), disk.sha256());
    float[] a = new float[4];
    float[] b = new float[4];
    for (int i = 0; i < 96; i++) {
      disk.read(i, a, 0);
      memory.read(i, b, 0);
      assertAllClose(a, b, EXACT);
    }
    assertThrows(IndexOutOfBoundsException.class, () -> disk.read(96, a, 0));
    assertEquals(1, cache.misses());
    cache.table("teacher", data, 4, 10, (x, n) -> { throw new AssertionError("the entry exists"); });
    assertEquals(1, cache.hits());
  }
}
