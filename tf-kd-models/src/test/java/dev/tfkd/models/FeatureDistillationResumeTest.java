package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.features.LossSpec;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.StopAfterEpochs;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feature distillation through the Java API with an in-graph ResNet teacher: a run interrupted after one epoch and
 * resumed ends bit-identical to the uninterrupted run, so the adapters (FitNet's regressor, ReviewKD's fusion
 * modules, VID's regressors and variances) and their optimizer slots are saved and restored with the student, and
 * ReviewKD's warm-up reads the epoch the run resumes in.
 */
class FeatureDistillationResumeTest {
  @TempDir Path work;

  private final Architecture student = Models.create("resnet8", new long[] {8, 8, 1}, 4);
  private final FrozenTeacher teacher = FrozenTeacher.initial(Models.create("resnet14", new long[] {8, 8, 1}, 4), 5);

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits) {}

  private Run run(
      LossSpec loss, Dataset train, int epochs, Path dir, boolean resume, List<TrainingListener> listeners) {
    TrainConfig cfg = new TrainConfig(epochs, 32, OptimizerConfig.adam(1e-3f), 3, 1);
    TrainedModel m =
        new Trainer(cfg, listeners)
            .trainOnline(student, train, loss, teacher, new Trainer.RunOptions(null, new Checkpoints(dir), true, resume));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(m.history(), im.logits(train));
    }
  }

  private static String figures(List<TrainingListener.EpochMetrics> h) {
    StringBuilder b = new StringBuilder();
    for (TrainingListener.EpochMetrics e : h) {
      b.append(List.of(e.epoch(), e.total(), e.hard(), e.soft(), e.accuracy(), e.globalStep())).append('\n');
    }
    return b.toString();
  }

  @Test
  void resumedFeatureDistillationIsBitIdentical() {
    LossSpec loss = LossSpec.parse("ce:1, kl(T=4):0.9, fitnet:100, at:1000, rkd");
    Dataset train = new Shapes(8, 8, 1, 4).sample(96, 1, "train");
    Run whole = run(loss, train, 2, work.resolve("whole"), false, List.of());
    Path dir = work.resolve("parts");
    Run first = run(loss, train, 2, dir, false, List.of(new StopAfterEpochs(1)));
    assertEquals(1, first.history().size());
    Run resumed = run(loss, train, 2, dir, true, new ArrayList<>());
    assertEquals(figures(whole.history()), figures(resumed.history()));
    assertAllClose(resumed.logits(), whole.logits(), Assertions.EXACT);
  }

  @Test
  void resumedReviewKdAndVidRunsAreBitIdentical() {
    // A 3-epoch warm-up: the resumed epochs weigh 2/3 and 1, so feeding the wrong epoch after a resume shows.
    LossSpec loss = LossSpec.parse("ce:1, reviewkd(warmup=3), vid");
    Dataset train = new Shapes(8, 8, 1, 4).sample(64, 1, "train");
    Run whole = run(loss, train, 3, work.resolve("whole-review"), false, List.of());
    Run first = run(loss, train, 3, work.resolve("parts-review"), false, List.of(new StopAfterEpochs(1)));
    assertEquals(1, first.history().size());
    Run resumed = run(loss, train, 3, work.resolve("parts-review"), true, new ArrayList<>());
    assertEquals(3, resumed.history().size());
    assertEquals(figures(whole.history()), figures(resumed.history()));
    assertAllClose(resumed.logits(), whole.logits(), Assertions.EXACT);
    for (TrainingListener.EpochMetrics e : whole.history()) {
      assertTrue(Double.isFinite(e.soft()) && e.soft() != 0, figures(whole.history()));
    }
  }
}
