package dev.tfkd.objectives;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.run.PhaseListener;
import dev.tfkd.run.RunResult;
import dev.tfkd.run.TeacherTrainer;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingContext;
import dev.tfkd.training.TrainingHook;
import dev.tfkd.training.TrainingListener;
import dev.tfkd.training.TrainingSetup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TeacherObjectivesTest {
  @TempDir Path work;

  private final GaussianMixture mixture = new GaussianMixture(4, 6, 1.0, 42);
  private final Dataset train = mixture.sample(1200, 1, "train");
  private final Dataset test = mixture.sample(600, 2, "test");
  private final TinyMlp arch = new TinyMlp(6, 32, 4);
  private final TrainConfig config = new TrainConfig(6, 64, OptimizerConfig.adam(1e-2f), 3, 1);

  private static float[] logits(TrainedModel m, Dataset d) {
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return im.logits(d);
    }
  }

  private static double cmi(float[] logits, Dataset d) {
    return EmpiricalCmi.of(logits, d.labels(), d.numClasses(), 1);
  }

  @ParameterizedTest
  @EnumSource(TeacherObjectives.Kind.class)
  void everyObjectiveTrainsATeacher(TeacherObjectives.Kind kind) throws java.io.IOException {
    TeacherObjectives.Spec spec =
        new TeacherObjectives.Spec(kind, 0.15f, 0.1f, McmiFineTune.paper(0.15f).withEpochs(2));
    List<TrainingListener.EpochMetrics> epochs = new ArrayList<>();
    TrainingListener collect =
        new TrainingListener() {
          @Override
          public void onEpoch(EpochMetrics e) {
            epochs.add(e);
          }
        };
    RunResult r =
        TeacherTrainer.builder()
            .architecture(arch)
            .objective(spec)
            .train(train)
            .training(config)
            .listener(PhaseListener.of(collect))
            .runDirectory(work.resolve("run-" + kind))
            .noExport()
            .build()
            .fit();
    assertTrue(epochs.get(5).hard() < epochs.get(0).hard(), kind + ": label loss did not fall " + epochs);
    double acc = Metrics.evaluate(logits(r.trained(), test), test).accuracy();
    assertTrue(acc > 0.6, kind + ": accuracy " + acc);
    if (kind == TeacherObjectives.Kind.MCMI) {
      assertEquals(2, r.phases().size());
      assertEquals(6 + 2, epochs.size());
      assertEquals(6 + 2, r.history().size());
    } else {
      assertEquals(1, r.phases().size());
    }
    assertNull(r.exportPath());
  }

  /** One MLL teacher shared by the policy cases (its checkpoint lives in a class-wide temporary folder). */
  @TempDir static Path shared;

  private static TrainedModel sharedMll;

  private TrainedModel mll() {
    if (sharedMll == null) {
      sharedMll = new Trainer(config, List.of()).train(arch, train, new CrossEntropy(), null, shared);
    }
    return sharedMll;
  }

  @ParameterizedTest
  @EnumSource(CentroidPolicy.class)
  void mcmiFineTuningRaisesTheCmiOfTheMllTeacher(CentroidPolicy policy) {
    TrainedModel mll = mll();
    McmiFineTune ft = McmiFineTune.paper(0.5f).withCentroids(policy).withEpochs(4);
    TrainedModel mcmi = ft.run(mll, train, config, List.of(), work);
    // The control: the same fine-tuning with lambda 0, so the gain is the CMI term's, not the extra epochs'.
    TrainedModel control =
        new McmiFineTune(0f, policy, 0.9f, 4, ft.optimizer()).run(mll, train, config, List.of(), work);
    double before = cmi(logits(mll, train), train);
    double after = cmi(logits(mcmi, train), train);
    double ctrl = cmi(logits(control, train), train);
    assertTrue(after > before * 1.1 && after > ctrl * 1.1, policy + ": CMI " + before + " -> " + after + " (control " + ctrl + ")");
    double acc = Metrics.evaluate(logits(mcmi, test), test).accuracy();
    assertTrue(acc > 0.6, "MCMI teacher accuracy " + acc);
  }

  @Test
  void cmimLowersTheCmi() {
    TrainedModel mll = mll();
    TrainedModel cmim =
        new Trainer(config, List.of()).train(arch, train, new Cmim(1f, Cmim.DEFAULT_TEMPERATURES), null, work);
    double a = cmi(logits(mll, test), test);
    double b = cmi(logits(cmim, test), test);
    assertTrue(b < a * 0.8, "CMI mll " + a + ", cmim " + b);
  }

  @Test
  void fineTuningStartsFromTheGivenWeightsAndRejectsForeignOnes() {
    TrainedModel mll = mll();
    Map<String, float[]> values = mll.variableValues(Trainer.sessionConfig(1));
    float[][] seen = new float[1][];
    TrainingHook probe =
        new TrainingHook() {
          @Override
          public void onStart(TrainingContext context) {
            seen[0] = context.logits(test);
          }
        };
    new Trainer(config.withEpochs(1), List.of())
        .train(arch, train, new CrossEntropy(), null, work, TrainingSetup.fineTune(values, List.of(probe)));
    assertAllClose(seen[0], logits(mll, test), 0, 1e-5f);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new Trainer(config, List.of())
                    .train(new TinyMlp(6, 16, 4), train, new CrossEntropy(), null, work,
                        TrainingSetup.fineTune(values, List.of())));
    assertTrue(e.getMessage().contains("w1"), e.getMessage());
  }

  @Test
  void parsesNamesAndRejectsUnknownOnes() {
    assertEquals(TeacherObjectives.Kind.LABEL_SMOOTHING, TeacherObjectives.Kind.parse("label-smoothing"));
    assertEquals(CentroidPolicy.EMA, CentroidPolicy.parse("EMA"));
    var e = assertThrows(IllegalArgumentException.class, () -> TeacherObjectives.Kind.parse("mmi"));
    assertTrue(e.getMessage().contains("mcmi"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> McmiFineTune.paper(-1f));
    assertThrows(IllegalArgumentException.class, () -> new Cmim(0.1f, new float[0]));
    assertThrows(
        IllegalArgumentException.class, () -> new CentroidFeed(CentroidPolicy.ONCE, 0.9f, 4).startFrom(new double[15]));
  }
}
