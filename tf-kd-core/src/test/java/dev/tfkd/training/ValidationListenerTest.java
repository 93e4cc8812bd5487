package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.EXACT;
import static dev.tfkd.testing.Assertions.FLOAT32;
import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Validation is a listener: its figures reach the epoch record that checkpoints and other listeners read. */
class ValidationListenerTest {
  @TempDir Path work;

  private final Dataset train = GaussianMixture.demo().sample(200, 1, "train");
  private final Dataset validation = GaussianMixture.demo().sample(100, 2, "validation");

  private TrainedModel run(Dataset val, List<TrainingListener> listeners, String dir) {
    TinyMlp arch = new TinyMlp((int) train.exampleShape()[0], 8, train.numClasses());
    return new Trainer(new TrainConfig(2, 32, OptimizerConfig.adam(1e-2f), 3, 1), listeners)
        .train(arch, train, new CrossEntropy(), null, new Trainer.RunOptions(val, new Checkpoints(work.resolve(dir)), true, false));
  }

  @Test
  void theValidationFiguresAreTheFinalModelsAndReachListenersAndCheckpoints() {
    List<TrainingListener.EpochMetrics> seen = new ArrayList<>();
    TrainedModel m = run(validation, List.of(new TrainingListener() {
      @Override
      public void onEpoch(EpochMetrics e) {
        seen.add(e);
      }
    }), "a");
    assertEquals(2, seen.size());
    Evaluation last = seen.get(1).validation();
    assertNotNull(last);
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      // An inference graph of its own, restored from the checkpoint: equal within float32 rounding.
      Evaluation direct = Metrics.evaluate(im.logits(validation), validation);
      assertEquals(direct.accuracy(), last.accuracy());
      assertAllClose(last.nll(), direct.nll(), FLOAT32);
    }
    // The checkpointed history holds the same figures.
    Evaluation saved = m.history().get(1).validation();
    assertAllClose(new double[] {saved.accuracy(), saved.nll()}, new double[] {last.accuracy(), last.nll()}, EXACT);
  }

  @Test
  void aValidationListenerGivenDirectlyScoresAsTheRunOptionDoes() {
    Validation listener = new Validation(validation);
    TrainedModel direct = run(null, List.of(listener), "b");
    TrainedModel option = run(validation, List.of(), "c");
    assertSame(validation, listener.data());
    for (int e = 0; e < 2; e++) {
      Evaluation a = direct.history().get(e).validation();
      Evaluation b = option.history().get(e).validation();
      assertAllClose(new double[] {a.accuracy(), a.nll()}, new double[] {b.accuracy(), b.nll()}, EXACT);
    }
    assertNull(run(null, List.of(), "d").history().get(0).validation());
  }
}
