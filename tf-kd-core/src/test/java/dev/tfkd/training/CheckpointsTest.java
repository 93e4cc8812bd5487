package dev.tfkd.training;

import dev.tfkd.training.checkpoint.Checkpoints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.TinyMlp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
  @TempDir Path dir;

  private final GaussianMixture mixture = new GaussianMixture(3, 4, 1.5, 4);
  private final Dataset train = mixture.sample(200, 1, "train");
  private final TinyMlp arch = new TinyMlp(4, 8, 3);

  private TrainedModel run(int epochs, Dataset data, boolean resume) {
    return new Trainer(new TrainConfig(epochs, 50, OptimizerConfig.adam(1e-2f), 3, 1), List.of())
        .train(arch, data, new CrossEntropy(), null, new Trainer.RunOptions(null, new Checkpoints(dir), true, resume));
  }

  @Test
  void aDivergingRunKeepsTheLastGoodCheckpoint() throws Exception {
    run(1, train, false);
    float[] x = train.features().clone();
    x[7] = Float.MAX_VALUE; // finite, so the data checks pass, but the first layer overflows to inf
    Dataset poisoned = new Dataset("poisoned", x, train.labels(), train.exampleShape(), train.numClasses(), null);
    TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> run(3, poisoned, true));
    assertTrue(e.getMessage().contains("epoch 2"), e.getMessage());
    Checkpoints.Saved kept = new Checkpoints(dir).latest().orElseThrow();
    assertEquals(1, kept.state().getEpochsDone());
    try (InferenceModel m = InferenceModel.restore(arch, kept.prefix(), Trainer.sessionConfig(1))) {
      for (float v : m.logits(train)) {
        assertTrue(Float.isFinite(v));
      }
    }
  }

  @Test
  void leftoversOfAKilledSaveAreIgnoredAndCleanedUp() throws Exception {
    run(1, train, false);
    // What a process killed while saving leaves: a staged directory and a temporary pointer file.
    Files.createDirectories(dir.resolve(".epoch-0002-123"));
    Files.writeString(dir.resolve(".epoch-0002-123/variables.index"), "torn");
    Files.writeString(dir.resolve(".latest.1.tmp"), "epoch-00");
    assertEquals(1, new Checkpoints(dir).latest().orElseThrow().state().getEpochsDone());
    TrainedModel m = run(2, train, true);
    assertEquals(2, m.history().size());
    try (var s = Files.list(dir)) {
      assertEquals(List.of("epoch-0001", "epoch-0002", "latest"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void aCorruptPointerIsReported() throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("latest"), "../../etc\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Checkpoints(dir).latest());
    assertTrue(e.getMessage().contains("does not name a checkpoint"), e.getMessage());
  }
}
