package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import dev.tfkd.testing.StopAfterEpochs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.ShuffledRecords;
import dev.tfkd.data.io.StreamPosition;
import dev.tfkd.data.io.SyntheticShards;
import dev.tfkd.data.io.TfRecordReader;
import dev.tfkd.data.io.TfRecordShards;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streamed TFRecord shards: the stream's order and its exact resume, and training on it with checkpoints. */
class StreamedTrainingTest {
  @TempDir Path work;

  private TfRecordShards shards;
  private Dataset inMemory;
  private final TinyMlp arch = new TinyMlp(6, 16, 4);

  @BeforeEach
  void writeShards() {
    // Shards of unequal sizes (37 examples in 3 files), one of them with a single record.
    Path dir = work.resolve("data");
    SyntheticShards.write(dir, "train", 3, 301, new long[] {6}, 4, 5);
    shards = TfRecordShards.open(dir.resolve("train-*.tfrecord").toString(), 0);
    List<Dataset> parts = new ArrayList<>();
    for (Path f : shards.shards()) {
      parts.add(TfRecordReader.read(f, 4));
    }
    int n = parts.stream().mapToInt(Dataset::size).sum();
    float[] x = new float[n * 6];
    int[] y = new int[n];
    int at = 0;
    for (Dataset d : parts) {
      System.arraycopy(d.features(), 0, x, at * 6, d.size() * 6);
      System.arraycopy(d.labels(), 0, y, at, d.size());
      at += d.size();
    }
    inMemory = new Dataset("all", x, y, new long[] {6}, 4, null);
  }

  private static List<Long> draw(ShuffledRecords r, int n) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(r.next().index());
    }
    return out;
  }

  @Test
  void openingCountsTheRecordsAndReadsTheShapeAndClasses() {
    assertEquals(301, shards.size());
    assertEquals(3, shards.shards().size());
    assertEquals(4, shards.numClasses());
    assertEquals(List.of(6L), Arrays.stream(shards.exampleShape()).boxed().toList());
  }

  @Test
  void everyPassVisitsEveryRecordOnceInASeededOrder() {
    try (ShuffledRecords a = shards.records(1, 50, true);
        ShuffledRecords b = shards.records(1, 50, true);
        ShuffledRecords c = shards.records(2, 50, true)) {
      List<Long> first = draw(a, 301);
      List<Long> second = draw(a, 301);
      assertEquals(301, new HashSet<>(first).size());
      assertEquals(new HashSet<>(first), new HashSet<>(second));
      assertNotEquals(first, second, "each pass has its own order");
      assertEquals(first, draw(b, 301));
      assertNotEquals(first, draw(c, 301));
    }
    try (ShuffledRecords inOrder = shards.records(1, 1, false)) {
      List<Long> order = draw(inOrder, 301);
      for (int i = 0; i < 301; i++) {
        assertEquals(i, order.get(i));
      }
    }
  }

  @Test
  void aStreamContinuedFromItsPositionDrawsWhatTheUninterruptedStreamDraws() {
    for (int cut : new int[] {0, 1, 40, 150, 300, 301, 420}) {
      List<Long> rest;
      StreamPosition p;
      try (ShuffledRecords whole = shards.records(3, 64, true)) {
        draw(whole, cut);
        p = whole.position();
        rest = draw(whole, 400);
      }
      try (ShuffledRecords resumed = shards.records(3, 64, p)) {
        assertEquals(rest, draw(resumed, 400), "cut at " + cut);
      }
    }
    // The buffer holds record references only, never more than its capacity.
    try (ShuffledRecords r = shards.records(3, 64, true)) {
      draw(r, 10);
      assertTrue(r.position().bufferIndex().length <= 64);
    }
  }

  @Test
  void parsedRecordsEqualTheWholeFileReader() {
    float[] x = new float[6];
    try (ShuffledRecords r = shards.records(4, 20, true)) {
      for (int i = 0; i < 301; i++) {
        ShuffledRecords.Raw raw = r.next();
        int label = shards.parse(raw, x, 0);
        int idx = (int) raw.index();
        assertEquals(inMemory.labels()[idx], label);
        assertAllClose(x, Arrays.copyOfRange(inMemory.features(), idx * 6, idx * 6 + 6), Assertions.EXACT);
      }
    }
  }

  private static TrainConfig config(int epochs) {
    return new TrainConfig(epochs, 32, OptimizerConfig.sgdCosine(0.05f, 0.9f, 1e-4f), 7, 1);
  }

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits) {}

  private Run run(int epochs, int stepsPerEpoch, Objective objective, LogitTable table, Path dir, boolean resume, int stopAfter) {
    TrainingListener stop =
        new StopAfterEpochs(stopAfter);
    TrainedModel m =
        new Trainer(config(epochs), List.of(stop))
            .trainStreamed(
                arch, new TrainStream(shards, 40, stepsPerEpoch, 2), objective, table,
                new Trainer.RunOptions(inMemory, new Checkpoints(dir), true, resume));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(m.history(), im.logits(inMemory));
    }
  }

  private static String figures(List<TrainingListener.EpochMetrics> h) {
    StringBuilder b = new StringBuilder();
    for (TrainingListener.EpochMetrics e : h) {
      b.append(List.of(e.epoch(), e.total(), e.accuracy(), e.learningRate(), e.globalStep(), e.validation())).append('\n');
    }
    return b.toString();
  }

  @Test
  void aResumedStreamedRunEndsBitIdenticalToTheUninterruptedOne() {
    // Epochs of 4 steps of 32 (128 examples) over 301 records: epochs end inside passes and inside shards.
    for (int steps : new int[] {4, 0}) {
      Run whole = run(5, steps, new CrossEntropy(), null, work.resolve("whole" + steps), false, -1);
      Path dir = work.resolve("parts" + steps);
      Run first = run(5, steps, new CrossEntropy(), null, dir, false, 2);
      assertEquals(2, first.history().size());
      Run resumed = run(5, steps, new CrossEntropy(), null, dir, true, -1);
      assertEquals(figures(whole.history()), figures(resumed.history()), "steps per epoch " + steps);
      assertAllClose(resumed.logits(), whole.logits(), Assertions.EXACT);
      assertEquals(steps == 0 ? 10 * 5 : 4 * 5, whole.history().get(4).globalStep());
    }
  }

  @Test
  void streamedDistillationReadsTeacherLogitsByExampleIndex() {
    // A teacher's logits as a table by global index; streamed distillation equals distillation in memory only in
    // the set of examples, so check it learns the teacher and refuses a table of the wrong size.
    float[] logits = new float[301 * 4];
    for (int i = 0; i < 301; i++) {
      logits[i * 4 + inMemory.labels()[i]] = 5f;
    }
    Distillation kd = new Distillation(0f, 1f, dev.tfkd.losses.Divergences.parse("kl(T=2)"));
    Run r = run(3, 0, kd, LogitTable.of(logits, 4), work.resolve("kd"), false, -1);
    assertTrue(r.history().get(2).accuracy() > 0.5, "accuracy " + r.history().get(2).accuracy());
    assertThrows(
        IllegalArgumentException.class,
        () -> run(3, 0, kd, LogitTable.of(new float[300 * 4], 4), work.resolve("bad"), false, -1));
    assertThrows(IllegalArgumentException.class, () -> run(3, 0, kd, null, work.resolve("none"), false, -1));
  }
}
