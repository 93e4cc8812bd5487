package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import dev.tfkd.testing.StopAfterEpochs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Augmentation;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Kl;
import dev.tfkd.testing.FlatMlp;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Augmentation in the training loop: the online teacher sees the student's augmented batch; resume stays exact. */
class AugmentedTrainingTest {
  @TempDir Path work;

  private static final int BATCH = 16;
  private final Dataset train = new Shapes(8, 8, 1, 4).sample(48, 1, "shapes-8");
  private final Augmentation augmentation = new Augmentation(2, true);

  private TrainConfig config(int epochs) {
    return new TrainConfig(epochs, BATCH, OptimizerConfig.adam(1e-2f), 5, 1, augmentation);
  }

  @Test
  void theOnlineTeacherSeesTheAugmentedBatchTheStudentSaw() {
    FrozenTeacher teacher = FrozenTeacher.initial(new FlatMlp(12), 11);
    FedBatchRecorder recorder = new FedBatchRecorder();
    List<float[]> inputs = recorder.inputs;
    List<float[]> teacherLogits = recorder.teacherLogits;
    new Trainer(config(2), List.of())
        .train(
            new FlatMlp(8), train, recorder.objective, null, teacher,
            new Trainer.RunOptions(null, new Checkpoints(work.resolve("c")), false, false),
            TrainingSetup.withHooks(List.of(recorder.hook)));

    int steps = train.size() / BATCH;
    assertEquals(2 * steps, inputs.size());
    int differing = 0;
    for (int i = 0; i < inputs.size(); i++) {
      int epoch = i / steps;
      int step = i % steps;
      int[] order = Trainer.epochOrder(train.size(), 5, epoch);
      int[] rows = Arrays.copyOfRange(order, step * BATCH, (step + 1) * BATCH);
      Dataset raw = train.select(rows, "raw");
      int[] labels = raw.labels();
      Dataset seen = new Dataset("seen", inputs.get(i), labels, train.exampleShape(), 4, null);
      // The recorded logits are the teacher's answer to exactly what the student was fed ...
      assertAllClose(teacherLogits.get(i), teacher.logits(seen, BATCH, Trainer.sessionConfig(1)), 1e-5, 1e-6);
      // ... and that input is the augmented batch, not the raw one.
      if (!Arrays.equals(raw.features(), inputs.get(i))) {
        differing++;
        assertFalse(
            Arrays.equals(teacher.logits(raw, BATCH, Trainer.sessionConfig(1)), teacherLogits.get(i)),
            "step " + i + ": the teacher's logits are those of the raw batch");
      }
    }
    assertEquals(inputs.size(), differing, "every batch of 16 should have at least one crop or flip");
  }

  @Test
  void precomputedTeacherLogitsAreRefusedWithAugmentation() {
    float[] cached = new float[train.size() * 4];
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new Trainer(config(1), List.of())
                    .train(new FlatMlp(8), train, new Distillation(0.1f, 0.9f, new Kl(4f)), cached, work));
    assertTrue(e.getMessage().contains("augmentation") && e.getMessage().contains("teacher"), e.getMessage());
  }

  @Test
  void augmentationNeedsImageExamples() {
    Dataset flat = new Dataset("flat", new float[12 * 6], new int[12], new long[] {6}, 4, null);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Trainer(config(1), List.of()).train(new TinyMlp(6, 4, 4), flat, new CrossEntropy(), null, work));
    assertTrue(e.getMessage().contains("[H, W, C]"), e.getMessage());
  }

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits) {}

  private Run onlineRun(TrainConfig cfg, Path dir, boolean resume, int stopAfter) {
    FrozenTeacher teacher = FrozenTeacher.initial(new FlatMlp(12), 11);
    TrainingListener stop =
        new StopAfterEpochs(stopAfter);
    TrainedModel m =
        new Trainer(cfg, List.of(stop))
            .trainOnline(
                new FlatMlp(8), train, new Distillation(0.1f, 0.9f, new Kl(4f)), teacher,
                new Trainer.RunOptions(null, new Checkpoints(dir), true, resume));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(m.history(), im.logits(train));
    }
  }

  private static List<List<Object>> figures(List<TrainingListener.EpochMetrics> h) {
    return h.stream().map(e -> List.<Object>of(e.epoch(), e.total(), e.hard(), e.soft(), e.accuracy(), e.globalStep())).toList();
  }

  @Test
  void resumeWithAugmentationAndAnOnlineTeacherIsExact() {
    Run whole = onlineRun(config(3), work.resolve("whole"), false, -1);
    Path dir = work.resolve("parts");
    Run first = onlineRun(config(3), dir, false, 1);
    assertEquals(1, first.history().size());
    Run resumed = onlineRun(config(3), dir, true, -1);
    assertEquals(figures(whole.history()), figures(resumed.history()));
    assertArrayEquals(whole.logits(), resumed.logits());
    // The augmentation is really applied: without it the same run takes other steps.
    Run plain = onlineRun(config(3).withAugmentation(Augmentation.NONE), work.resolve("plain"), false, -1);
    assertFalse(figures(whole.history()).equals(figures(plain.history())));
  }

  @Test
  void namesParseAndRoundTrip() {
    assertEquals(new Augmentation(4, true), Augmentation.parse(List.of("crop", "flip")));
    assertEquals(new Augmentation(3, false), Augmentation.parse(List.of(" crop:3 ")));
    assertEquals(Augmentation.NONE, Augmentation.parse(List.of()));
    assertEquals(List.of("crop:2", "flip"), augmentation.names());
    assertEquals(augmentation, Augmentation.parse(augmentation.names()));
    assertThrows(IllegalArgumentException.class, () -> Augmentation.parse(List.of("rotate")));
    assertThrows(IllegalArgumentException.class, () -> Augmentation.parse(List.of("flip", "flip")));
    assertThrows(IllegalArgumentException.class, () -> Augmentation.parse(List.of("crop:0")));
  }
}
