package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Divergences;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A short distillation on the built-in Gaussian mixture with every registered divergence, the divergence alone
 * ({@code ce-weight 0}; Sinkhorn beside the label loss, see below): the soft loss falls and the student, evaluated
 * on held-out examples, is far above chance (0.25 for 4 classes). Also PS-KD, which has no teacher.
 */
class DistillationWithEachDivergenceTest {
  @TempDir static Path work;

  private static final GaussianMixture MIXTURE = new GaussianMixture(4, 6, 1.5, 42);
  private static final Dataset TRAIN = MIXTURE.sample(1000, 1, "train");
  private static final Dataset TEST = MIXTURE.sample(500, 2, "test");
  private static float[] teacherTrain;
  private static double teacherAccuracy;

  @BeforeAll
  static void trainTeacher() {
    TrainedModel teacher =
        new Trainer(new TrainConfig(10, 64, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(6, 64, 4), TRAIN, new CrossEntropy(), null, work);
    try (InferenceModel t = teacher.load(Trainer.sessionConfig(1))) {
      teacherTrain = t.logits(TRAIN);
      teacherAccuracy = Metrics.evaluate(t.logits(TEST), TEST).accuracy();
    }
  }

  /** Every registry entry; DKD without its 20-epoch warm-up (which would make the loss rise over 8 epochs). */
  static Stream<String> specs() {
    List<String> specs = new ArrayList<>();
    for (Divergences.Entry e : Divergences.entries()) {
      specs.add(e.name().equals("dkd") ? "dkd(warmup=0)" : e.name());
    }
    specs.add("cswt:kl");
    specs.add("cswt:dkd(warmup=0)");
    return specs.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void distillingWithTheDivergenceAloneLowersItAndLearns(String spec) {
    List<TrainingListener.EpochMetrics> epochs = new ArrayList<>();
    // Sinkhorn matches the batch's set of student distributions to the teacher's, not example to example: alone it
    // can (and here does) learn a permuted labelling with low transport cost. SinKD uses it beside the label loss.
    boolean setMatch = spec.startsWith("sinkhorn");
    Objective kd = new Distillation(setMatch ? 0.5f : 0f, setMatch ? 0.5f : 1f, Divergences.parse(spec));
    TrainedModel student =
        new Trainer(new TrainConfig(8, 64, OptimizerConfig.adam(1e-2f), 5, 1), List.of(collect(epochs)))
            .train(new TinyMlp(6, 16, 4), TRAIN, kd, teacherTrain, work);
    double first = epochs.get(0).soft();
    double last = epochs.get(epochs.size() - 1).soft();
    assertTrue(last < first, spec + ": soft loss " + first + " -> " + last);
    try (InferenceModel s = student.load(Trainer.sessionConfig(1))) {
      double acc = Metrics.evaluate(s.logits(TEST), TEST).accuracy();
      assertTrue(acc > 0.6, spec + ": held-out accuracy " + acc + " (teacher " + teacherAccuracy + ", chance 0.25)");
    }
  }

  @Test
  void progressiveSelfDistillationTrainsWithoutTeacher() {
    List<TrainingListener.EpochMetrics> epochs = new ArrayList<>();
    TrainConfig cfg = new TrainConfig(8, 64, OptimizerConfig.adam(1e-2f), 5, 1);
    TrainedModel model =
        new Trainer(cfg, List.of(collect(epochs)))
            .train(new TinyMlp(6, 16, 4), TRAIN, ProgressiveSelfDistillation.forRun(cfg), null, work);
    assertTrue(epochs.get(7).hard() < epochs.get(0).hard(), "label loss " + epochs);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      double acc = Metrics.evaluate(m.logits(TEST), TEST).accuracy();
      assertTrue(acc > 0.7, "PS-KD held-out accuracy " + acc);
    }
  }

  /**
   * The previous-epoch predictions reach the right examples across reshuffles: with a learning rate too small to
   * change the weights, the fed "previous" logits must equal the model's current logits for the same examples from
   * the second epoch on, so an objective measuring their squared difference reads exactly 0 there (and not in the
   * first epoch, which is fed zeros).
   */
  @Test
  void ownPredictionsAreFedBackPerExample() {
    Objective probe =
        new Objective() {
          @Override
          public String describe() {
            return "probe";
          }

          @Override
          public boolean needsTeacher() {
            return false;
          }

          @Override
          public boolean usesOwnPredictions() {
            return true;
          }

          @Override
          public LossTerms build(
              org.tensorflow.op.Ops tf,
              org.tensorflow.Operand<org.tensorflow.types.TFloat32> logits,
              org.tensorflow.Operand<org.tensorflow.types.TFloat32> previous,
              dev.tfkd.losses.LossContext context) {
            var ce = dev.tfkd.losses.SoftmaxOps.mean(tf, dev.tfkd.losses.SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
            var gap = dev.tfkd.losses.SoftmaxOps.mean(tf, tf.math.square(tf.math.sub(logits, previous)));
            return new LossTerms(ce, ce, gap);
          }
        };
    List<TrainingListener.EpochMetrics> epochs = new ArrayList<>();
    TrainConfig cfg = new TrainConfig(3, 64, OptimizerConfig.sgdCosine(1e-30f, 0f, 0f), 5, 1);
    new Trainer(cfg, List.of(collect(epochs))).train(new TinyMlp(6, 16, 4), TRAIN, probe, null, work);
    assertTrue(epochs.get(0).soft() > 0.01, "first epoch is fed zeros: " + epochs.get(0));
    assertAllClose(epochs.get(1).soft(), 0.0, 0, 1e-9, "second epoch");
    assertAllClose(epochs.get(2).soft(), 0.0, 0, 1e-9, "third epoch");
  }

  @Test
  void anObjectiveCannotBothNeedATeacherAndUseItsOwnPredictions() {
    Objective both =
        new Objective() {
          @Override
          public String describe() {
            return "both";
          }

          @Override
          public boolean needsTeacher() {
            return true;
          }

          @Override
          public boolean usesOwnPredictions() {
            return true;
          }

          @Override
          public LossTerms build(
              org.tensorflow.op.Ops tf,
              org.tensorflow.Operand<org.tensorflow.types.TFloat32> logits,
              org.tensorflow.Operand<org.tensorflow.types.TFloat32> teacherLogits,
              dev.tfkd.losses.LossContext context) {
            throw new AssertionError("never built");
          }
        };
    var e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> new Trainer(new TrainConfig(1, 64, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
                .train(new TinyMlp(6, 8, 4), TRAIN, both, teacherTrain, work));
    assertTrue(e.getMessage().contains("cannot both"), e.getMessage());
  }

  @Test
  void psKdWeightGrowsLinearlyToItsFinalValue() {
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      var tf = org.tensorflow.op.Ops.create(g);
      var epoch = tf.placeholder(org.tensorflow.types.TFloat32.class);
      var a = new ProgressiveSelfDistillation(0.8f, 5).alpha(tf, epoch);
      try (var s = new org.tensorflow.Session(g)) {
        float[] expected = {0f, 0.2f, 0.4f, 0.6f, 0.8f, 0.8f};
        for (int e = 0; e < expected.length; e++) {
          try (var et = org.tensorflow.types.TFloat32.scalarOf(e);
              var out = s.runner().feed(epoch, et).fetch(a).run()) {
            assertAllClose(((org.tensorflow.types.TFloat32) out.get(0)).getFloat(), expected[e], 0, 1e-6, "epoch " + e);
          }
        }
      }
    }
  }

  private static TrainingListener collect(List<TrainingListener.EpochMetrics> into) {
    return new TrainingListener() {
      @Override
      public void onEpoch(EpochMetrics e) {
        into.add(e);
      }
    };
  }
}
