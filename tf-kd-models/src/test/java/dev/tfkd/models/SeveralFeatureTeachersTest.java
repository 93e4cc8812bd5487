package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.features.LossSpec;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.Objective;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TeacherCombination;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feature terms with several in-graph teachers through the trainer: a ResNet teacher given twice (mean of the
 * losses) trains the student as that teacher alone does, and two different teachers with OFD, AT and KL train and
 * differ from either alone.
 */
class SeveralFeatureTeachersTest {
  @TempDir Path work;

  private final Dataset train = new Shapes(8, 8, 1, 4).sample(64, 1, "train");
  private final Architecture student = Models.create("resnet8", new long[] {8, 8, 1}, 4);
  private final FrozenTeacher teacher = FrozenTeacher.initial(Models.create("resnet14", new long[] {8, 8, 1}, 4), 5);
  private final FrozenTeacher other = FrozenTeacher.initial(Models.create("resnet8", new long[] {8, 8, 1}, 4), 6);

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits) {}

  private Run run(String dir, Objective objective, List<FrozenTeacher> teachers) {
    TrainConfig cfg = new TrainConfig(1, 32, OptimizerConfig.adam(1e-3f), 3, 1);
    Trainer.RunOptions options = new Trainer.RunOptions(null, new Checkpoints(work.resolve(dir)), true, false);
    TrainedModel m = new Trainer(cfg, List.of()).trainOnline(student, train, objective, teachers, options);
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(m.history(), im.logits(train));
    }
  }

  @Test
  void oneTeacherGivenTwiceTrainsAsThatTeacherAlone() {
    LossSpec loss = LossSpec.parse("ce:1, kl(T=4):0.9, at");
    Run alone = run("alone", loss, List.of(teacher));
    Run twice = run("twice", loss.withTeachers(TeacherCombination.meanOfLosses(), 2, 3), List.of(teacher, teacher));
    assertEquals(alone.history().get(0).soft(), twice.history().get(0).soft(), 1e-6 * Math.abs(alone.history().get(0).soft()));
    assertAllClose(twice.logits(), alone.logits(), 1e-5, 1e-6);
  }

  @Test
  void twoDifferentTeachersTrainWithOfd() {
    LossSpec loss = LossSpec.parse("ce:1, kl(T=4):0.9, at, ofd");
    Run both = run("both", loss.withTeachers(TeacherCombination.meanOfLosses(), 2, 3), List.of(teacher, other));
    Run first = run("first", loss, List.of(teacher));
    double soft = both.history().get(0).soft();
    assertTrue(Double.isFinite(soft) && soft > 0, "soft loss " + soft);
    assertTrue(Math.abs(soft - first.history().get(0).soft()) > 1e-6, "the second teacher changes the soft loss");
  }
}
