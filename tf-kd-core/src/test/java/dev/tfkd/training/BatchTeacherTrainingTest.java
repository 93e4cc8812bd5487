package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.EXACT;
import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Augmentation;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.losses.Kl;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.testing.FlatMlp;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A teacher outside the training graph (a SavedModel in its own session) with augmentation: it is asked for every
 * augmented batch on the batch-preparation thread, and the logits the student is trained against at a step are its
 * answer to exactly the batch that step fed.
 */
class BatchTeacherTrainingTest {
  @TempDir Path work;

  private static final int BATCH = 16;
  private final Dataset train = new Shapes(8, 8, 1, 4).sample(48, 1, "shapes-8");

  @Test
  void theSavedModelTeacherAnswersTheAugmentedBatchTheStudentIsFed() throws Exception {
    Path dir = new FlatMlp(12).exportTrained(train, work);
    FedBatchRecorder recorder = new FedBatchRecorder();
    List<float[]> inputs = recorder.inputs;
    List<float[]> fedLogits = recorder.teacherLogits;
    Set<String> threads = ConcurrentHashMap.newKeySet();
    try (SavedModelTeacher teacher = SavedModelTeacher.load(dir)) {
      BatchLogits asked =
          (features, n) -> {
            threads.add(Thread.currentThread().getName());
            return teacher.logits(features, n);
          };
      new Trainer(new TrainConfig(2, BATCH, OptimizerConfig.adam(1e-2f), 5, 1, new Augmentation(2, true)), List.of())
          .trainWith(
              new FlatMlp(8), train, recorder.objective, new Trainer.TeacherFeed(null, null, asked),
              new Trainer.RunOptions(null, new Checkpoints(work.resolve("c")), false, false),
              TrainingSetup.withHooks(List.of(recorder.hook)));

      int steps = train.size() / BATCH;
      assertEquals(2 * steps, inputs.size());
      for (int i = 0; i < inputs.size(); i++) {
        int[] order = Trainer.epochOrder(train.size(), 5, i / steps);
        int step = i % steps;
        Dataset raw = train.select(Arrays.copyOfRange(order, step * BATCH, (step + 1) * BATCH), "raw");
        // The logits the student was trained against are the teacher's answer to exactly what it was fed ...
        assertAllClose(fedLogits.get(i), teacher.logits(inputs.get(i), BATCH), EXACT, "step " + i);
        // ... and what it was fed is the augmented batch, not the raw one.
        assertFalse(Arrays.equals(raw.features(), inputs.get(i)), "step " + i + " fed the raw batch");
        assertFalse(
            Arrays.equals(teacher.logits(raw.features(), BATCH), fedLogits.get(i)),
            "step " + i + ": the teacher's logits are those of the raw batch");
      }
    }
    // Asked on the feeder's thread, so the teacher's work overlaps with the student's previous step.
    assertEquals(Set.of("tfkd-batch-feeder"), threads);
  }

  @Test
  void aTeacherGivingTheWrongNumberOfLogitsStopsTheRun() {
    BatchLogits wrong = (features, n) -> new float[n * 3];
    Trainer trainer =
        new Trainer(new TrainConfig(1, BATCH, OptimizerConfig.adam(1e-2f), 5, 1, Augmentation.cifar()), List.of());
    IllegalStateException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalStateException.class,
            () ->
                trainer.trainOnline(
                    new FlatMlp(8), train, new Distillation(0.1f, 0.9f, new Kl(4f)), wrong,
                    new Trainer.RunOptions(null, new Checkpoints(work.resolve("w")), false, false)));
    assertTrue(e.getMessage().contains("logits"), e.getMessage());
  }

  @Test
  void withoutAugmentationTheBatchTeacherSeesTheRawBatch() {
    FrozenTeacher frozen = FrozenTeacher.initial(new FlatMlp(12), 11);
    List<float[]> asked = Collections.synchronizedList(new ArrayList<>());
    BatchLogits teacher =
        (features, n) -> {
          asked.add(features.clone());
          return frozen.logits(
              new Dataset("b", features.clone(), new int[n], train.exampleShape(), 4, null), BATCH,
              Trainer.sessionConfig(1));
        };
    new Trainer(new TrainConfig(1, BATCH, OptimizerConfig.adam(1e-2f), 5, 1), List.of())
        .trainOnline(
            new FlatMlp(8), train, new Distillation(0.1f, 0.9f, new Kl(4f)), teacher,
            new Trainer.RunOptions(null, new Checkpoints(work.resolve("p")), false, false));
    int[] order = Trainer.epochOrder(train.size(), 5, 0);
    assertEquals(train.size() / BATCH, asked.size());
    for (int s = 0; s < asked.size(); s++) {
      Dataset raw = train.select(Arrays.copyOfRange(order, s * BATCH, (s + 1) * BATCH), "raw");
      assertAllClose(asked.get(s), raw.features(), EXACT, "step " + s);
    }
  }
}
