package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import dev.tfkd.testing.StopAfterEpochs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Divergences;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Training with several teachers' logits side by side: one teacher given twice, and resume of the random draw. */
class SeveralTeachersTrainingTest {
  @TempDir Path work;

  private final GaussianMixture mixture = new GaussianMixture(4, 6, 1.5, 42);
  private final Dataset train = mixture.sample(400, 1, "train");
  private final Dataset validation = mixture.sample(100, 2, "validation");
  private final TinyMlp arch = new TinyMlp(6, 16, 4);

  private static TrainConfig config(int epochs) {
    return new TrainConfig(epochs, 50, OptimizerConfig.sgdCosine(0.05f, 0.9f, 1e-4f), 7, 1);
  }

  /** A teacher's logits: {@code sharpness} on the label plus seeded noise. */
  private float[] teacher(long seed, float sharpness) {
    SplittableRandom r = new SplittableRandom(seed);
    int k = train.numClasses();
    float[] z = new float[train.size() * k];
    for (int i = 0; i < train.size(); i++) {
      for (int c = 0; c < k; c++) {
        z[i * k + c] = (c == train.labels()[i] ? sharpness : 0f) + (float) (2 * r.nextDouble() - 1);
      }
    }
    return z;
  }

  private static float[] sideBySide(List<float[]> logits, int n, int k) {
    int m = logits.size();
    float[] out = new float[n * m * k];
    for (int t = 0; t < m; t++) {
      for (int i = 0; i < n; i++) {
        System.arraycopy(logits.get(t), i * k, out, (i * m + t) * k, k);
      }
    }
    return out;
  }

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits) {}

  private Run run(TrainConfig cfg, Objective objective, float[] teacherLogits, Path dir, boolean resume, List<TrainingListener> listeners) {
    TrainedModel m =
        new Trainer(cfg, listeners)
            .train(arch, train, objective, teacherLogits, new Trainer.RunOptions(validation, new Checkpoints(dir), true, resume));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(m.history(), im.logits(validation));
    }
  }

  private static double[] losses(List<TrainingListener.EpochMetrics> h) {
    double[] out = new double[h.size() * 3];
    for (int i = 0; i < h.size(); i++) {
      out[3 * i] = h.get(i).total();
      out[3 * i + 1] = h.get(i).hard();
      out[3 * i + 2] = h.get(i).soft();
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(TeacherCombination.Mode.class)
  void oneTeacherGivenTwiceTrainsAsThatTeacherAlone(TeacherCombination.Mode mode) {
    float[] z = teacher(3, 3f);
    var kl = Divergences.parse("kl(T=4)");
    Run alone = run(config(2), new Distillation(0.2f, 0.8f, kl), z, work.resolve("alone"), false, List.of());
    float[] w = mode == TeacherCombination.Mode.WEIGHTED ? new float[] {0.3f, 0.7f} : null;
    Objective twice = new MultiTeacherDistillation(0.2f, 0.8f, kl, new TeacherCombination(mode, w), 2, 7);
    Run both =
        run(config(2), twice, sideBySide(List.of(z, z), train.size(), 4), work.resolve("twice-" + mode), false, List.of());
    assertAllClose(losses(both.history()), losses(alone.history()), 1e-5, 1e-6);
    assertAllClose(both.logits(), alone.logits(), 1e-4, 1e-5);
  }

  @Test
  void twoDifferentTeachersTrainOtherwiseThanEitherAlone() {
    float[] a = teacher(3, 3f);
    float[] b = teacher(4, 0.5f);
    var kl = Divergences.parse("kl(T=4)");
    Run first = run(config(1), new Distillation(0.2f, 0.8f, kl), a, work.resolve("a"), false, List.of());
    Run mean =
        run(
            config(1), new MultiTeacherDistillation(0.2f, 0.8f, kl, TeacherCombination.meanOfLosses(), 2, 7),
            sideBySide(List.of(a, b), train.size(), 4), work.resolve("ab"), false, List.of());
    assertTrue(
        Math.abs(mean.history().get(0).soft() - first.history().get(0).soft()) > 1e-3,
        "the second teacher must change the soft loss");
  }

  @Test
  void randomTeacherPerBatchIsDrawnFromTheSeedAndResumesBitIdentically() {
    float[] logits = sideBySide(List.of(teacher(3, 3f), teacher(4, 0.5f), teacher(5, 1.5f)), train.size(), 4);
    var kl = Divergences.parse("kl(T=4)");
    MultiTeacherDistillation whole = new MultiTeacherDistillation(0.2f, 0.8f, kl, TeacherCombination.randomPerBatch(), 3, 7);
    Run uninterrupted = run(config(4), whole, logits, work.resolve("whole"), false, List.of());
    List<Integer> drawn = whole.draw().drawn();
    int steps = 400 / 50;
    assertEquals(4 * steps, drawn.size());
    for (int e = 0; e < 4; e++) {
      for (int s = 0; s < steps; s++) {
        assertEquals(TeacherDraw.choice(7, e, s, 3), drawn.get(e * steps + s), "epoch " + e + " step " + s);
      }
    }
    assertEquals(3, drawn.stream().distinct().count(), "every teacher is drawn: " + drawn);

    TrainingListener stopAfterTwo =
        new StopAfterEpochs(2);
    Path dir = work.resolve("parts");
    run(config(4), new MultiTeacherDistillation(0.2f, 0.8f, kl, TeacherCombination.randomPerBatch(), 3, 7), logits, dir, false, List.of(stopAfterTwo));
    MultiTeacherDistillation second = new MultiTeacherDistillation(0.2f, 0.8f, kl, TeacherCombination.randomPerBatch(), 3, 7);
    Run resumed = run(config(4), second, logits, dir, true, List.of());
    assertEquals(drawn.subList(2 * steps, 4 * steps), second.draw().drawn());
    assertAllClose(losses(resumed.history()), losses(uninterrupted.history()), Assertions.EXACT);
    assertAllClose(resumed.logits(), uninterrupted.logits(), Assertions.EXACT);
  }

  @Test
  void teacherLogitsOfTheWrongWidthAreRefused() {
    Objective two = new MultiTeacherDistillation(0.2f, 0.8f, Divergences.parse("kl"), TeacherCombination.meanOfLosses(), 2, 7);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> run(config(1), two, teacher(3, 3f), work.resolve("w"), false, new ArrayList<>()));
    assertTrue(e.getMessage().contains("teacher logits hold"), e.getMessage());
  }
}
