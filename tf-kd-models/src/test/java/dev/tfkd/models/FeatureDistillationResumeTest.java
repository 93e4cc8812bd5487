package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;
import dev.tfkd.testing.StopAfterEpochs;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.features.LossSpec;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.Assertions;
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
 * resumed ends bit-identical to the uninterrupted run, so the adapters (FitNet's regressor) and their optimizer
 * slots are saved and restored with the student.
 */
class FeatureDistillationResumeTest {
  @TempDir Path work;

  private final Dataset train = new Shapes(8, 8, 1, 4).sample(96, 1, "train");
  private final Architecture student = Models.create("resnet8", new long[] {8, 8, 1}, 4);
  private final FrozenTeacher teacher = FrozenTeacher.initial(Models.create("resnet14", new long[] {8, 8, 1}, 4), 5);
  private final LossSpec loss = LossSpec.parse("ce:1, kl(T=4):0.9, fitnet:100, at:1000, rkd");

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits) {}

  private Run run(Path dir, boolean resume, List<TrainingListener> listeners) {
    TrainConfig cfg = new TrainConfig(2, 32, OptimizerConfig.adam(1e-3f), 3, 1);
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
    Run whole = run(work.resolve("whole"), false, List.of());
    TrainingListener stopAfterOne =
        new StopAfterEpochs(1);
    Path dir = work.resolve("parts");
    Run first = run(dir, false, List.of(stopAfterOne));
    assertEquals(1, first.history().size());
    Run resumed = run(dir, true, new ArrayList<>());
    assertEquals(figures(whole.history()), figures(resumed.history()));
    assertAllClose(resumed.logits(), whole.logits(), Assertions.EXACT);
  }
}
