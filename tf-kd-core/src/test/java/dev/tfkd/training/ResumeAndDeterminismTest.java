package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import dev.tfkd.testing.StopAfterEpochs;
import dev.tfkd.training.checkpoint.Checkpoints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints, resume and determinism of the training loop (one thread, fixed seed). */
class ResumeAndDeterminismTest {
  @TempDir Path work;

  private final GaussianMixture mixture = new GaussianMixture(4, 6, 1.5, 42);
  private final Dataset train = mixture.sample(600, 1, "train");
  private final Dataset validation = mixture.sample(200, 2, "validation");
  private final TinyMlp arch = new TinyMlp(6, 16, 4);

  private static TrainConfig config(int epochs) {
    // SGD with momentum and a cosine schedule: the resumed run must restore the slots and the step count.
    return new TrainConfig(epochs, 50, OptimizerConfig.sgdCosine(0.05f, 0.9f, 1e-4f), 7, 1);
  }

  private record Run(List<TrainingListener.EpochMetrics> history, float[] logits) {}

  private Run run(TrainConfig cfg, Path dir, boolean resume, List<TrainingListener> listeners) {
    return run(cfg, new CrossEntropy(), dir, resume, listeners);
  }

  private Run run(TrainConfig cfg, Objective objective, Path dir, boolean resume, List<TrainingListener> listeners) {
    List<TrainingListener.EpochMetrics> seen = new ArrayList<>();
    List<TrainingListener> all = new ArrayList<>(listeners);
    all.add(
        new TrainingListener() {
          @Override
          public void onEpoch(EpochMetrics e) {
            seen.add(e);
          }
        });
    TrainedModel m =
        new Trainer(cfg, all)
            .train(arch, train, objective, null, new Trainer.RunOptions(validation, new Checkpoints(dir), true, resume));
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return new Run(m.history(), im.logits(validation));
    }
  }

  /** Everything but the wall time. */
  private static String figures(List<TrainingListener.EpochMetrics> h) {
    StringBuilder b = new StringBuilder();
    for (TrainingListener.EpochMetrics e : h) {
      b.append(List.of(e.epoch(), e.total(), e.hard(), e.soft(), e.accuracy(), e.learningRate(), e.globalStep(), e.validation()))
          .append('\n');
    }
    return b.toString();
  }

  @Test
  void twoRunsWithOneThreadAndTheSameSeedAreBitIdentical() {
    Run a = run(config(3), work.resolve("a"), false, List.of());
    Run b = run(config(3), work.resolve("b"), false, List.of());
    assertEquals(figures(a.history()), figures(b.history()));
    assertAllClose(b.logits(), a.logits(), Assertions.EXACT);
    Run c = run(config(3).withSeed(8), work.resolve("c"), false, List.of());
    assertNotEquals(figures(a.history()), figures(c.history()));
  }

  @Test
  void resumedRunEndsBitIdenticalToUninterruptedRun() throws Exception {
    Run whole = run(config(4), work.resolve("whole"), false, List.of());
    TrainingListener stopAfterTwo =
        new StopAfterEpochs(2);
    Path dir = work.resolve("parts");
    Run first = run(config(4), dir, false, List.of(stopAfterTwo));
    assertEquals(2, first.history().size());
    List<List<TrainingListener.EpochMetrics>> restored = new ArrayList<>();
    TrainingListener onResume =
        new TrainingListener() {
          @Override
          public void onResume(List<EpochMetrics> history) {
            restored.add(history);
          }
        };
    Run resumed = run(config(4), dir, true, List.of(onResume));
    assertEquals(figures(first.history()), figures(restored.get(0)));
    assertEquals(figures(whole.history()), figures(resumed.history()));
    assertAllClose(resumed.logits(), whole.logits(), Assertions.EXACT);
    // Only the newest checkpoints are kept, and no staged leftovers.
    try (var s = Files.list(dir)) {
      assertEquals(List.of("epoch-0003", "epoch-0004", "latest"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void validationFiguresComeFromTheInferenceGraph() {
    Run r = run(config(2), work.resolve("v"), false, List.of());
    TrainingListener.EpochMetrics last = r.history().get(1);
    assertEquals(dev.tfkd.metrics.Metrics.evaluate(r.logits(), validation), last.validation());
    assertTrue(last.accuracy() > 0.5, "training accuracy " + last.accuracy());
  }

  @Test
  void resumeWithoutCheckpointOrWithAnotherSeedIsRefused() {
    Path dir = work.resolve("none");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(config(2), dir, true, List.of()));
    assertTrue(e.getMessage().contains("no checkpoint"), e.getMessage());
    run(config(1), dir, false, List.of());
    TrainConfig other = config(2).withSeed(99);
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new Trainer(other, List.of())
                    .train(arch, train, new CrossEntropy(), null, new Trainer.RunOptions(null, new Checkpoints(dir), true, true)));
    assertTrue(e.getMessage().contains("seed 7"), e.getMessage());
  }

  @Test
  void epochOrderIsAPureFunctionOfSeedAndEpoch() {
    assertArrayEquals(Trainer.epochOrder(50, 3, 4), Trainer.epochOrder(50, 3, 4));
    assertTrue(!java.util.Arrays.equals(Trainer.epochOrder(50, 3, 4), Trainer.epochOrder(50, 3, 5)));
    int[] sorted = Trainer.epochOrder(50, 3, 2).clone();
    java.util.Arrays.sort(sorted);
    for (int i = 0; i < 50; i++) {
      assertEquals(i, sorted[i]);
    }
  }

  @Test
  void logsHoldEveryStepAndEpochOnceAfterAResume() throws Exception {
    Path whole = work.resolve("logs-whole");
    try (RunLogs logs = new RunLogs(whole)) {
      run(config(3), whole.resolve("checkpoints"), false, List.of(logs));
    }
    Path parts = work.resolve("logs-parts");
    TrainingListener stopAfterOne =
        new TrainingListener() {
          boolean done;

          @Override
          public void onEpoch(EpochMetrics e) {
            done = true;
          }

          @Override
          public boolean stopRequested() {
            return done;
          }
        };
    try (RunLogs logs = new RunLogs(parts)) {
      run(config(3), parts.resolve("checkpoints"), false, List.of(logs, stopAfterOne));
      // A killed run may have logged steps past its last checkpoint: they must go on resume.
      logs.onStep(new TrainingListener.StepMetrics(1, 0, 12, 12, 50, 0.1f, 9f, 9f, 0f, 0f));
    }
    try (RunLogs logs = new RunLogs(parts)) {
      run(config(3), parts.resolve("checkpoints"), true, List.of(logs));
    }
    List<String> ws = Files.readAllLines(whole.resolve("metrics/steps.jsonl"));
    List<String> ps = Files.readAllLines(parts.resolve("metrics/steps.jsonl"));
    assertEquals(36, ws.size());
    assertEquals(ws, ps);
    List<String> we = Files.readAllLines(whole.resolve("metrics/epochs.jsonl"));
    List<String> pe = Files.readAllLines(parts.resolve("metrics/epochs.jsonl"));
    assertEquals(3, pe.size());
    for (int i = 0; i < 3; i++) {
      // Equal but for the wall time.
      assertEquals(we.get(i).replaceAll("\"seconds\":[^,}]*", ""), pe.get(i).replaceAll("\"seconds\":[^,}]*", ""));
    }
    try (var files = Files.list(parts.resolve("tensorboard"))) {
      assertEquals(2, files.count());
    }
    // The event file of the whole run, read back with an independent reader, holds what the JSON lines hold.
    Path events;
    try (var files = Files.list(whole.resolve("tensorboard"))) {
      events = files.findFirst().orElseThrow();
    }
    java.util.Map<String, java.util.TreeMap<Long, Float>> scalars = new java.util.HashMap<>();
    for (byte[] r : dev.tfkd.io.TfRecordReader.read(events)) {
      org.tensorflow.proto.Event ev = org.tensorflow.proto.Event.parseFrom(r);
      for (org.tensorflow.proto.Summary.Value v : ev.getSummary().getValueList()) {
        scalars.computeIfAbsent(v.getTag(), t -> new java.util.TreeMap<>()).put(ev.getStep(), v.getSimpleValue());
      }
    }
    assertEquals(36, scalars.get("loss/total").size());
    assertEquals(3, scalars.get("validation/accuracy").size());
    String lastEpoch = we.get(2);
    float loss = Float.parseFloat(lastEpoch.replaceAll(".*\"loss_total\":([^,}]*).*", "$1"));
    float valAcc = Float.parseFloat(lastEpoch.replaceAll(".*\"val_accuracy\":([^,}]*).*", "$1"));
    assertEquals(loss, scalars.get("epoch/loss_total").get(36L));
    assertEquals(valAcc, scalars.get("validation/accuracy").get(36L));
    String firstStep = ws.get(0);
    assertEquals(
        Float.parseFloat(firstStep.replaceAll(".*\"loss_hard\":([^,}]*).*", "$1")), scalars.get("loss/hard").get(1L));
  }

  @Test
  void stepsOfTheLastCheckpointedEpochSurviveAKillBeforeTheyWereLogged() throws Exception {
    Path whole = work.resolve("k-whole");
    try (RunLogs logs = new RunLogs(whole)) {
      run(config(3), whole.resolve("checkpoints"), false, List.of(logs));
    }
    Path killed = work.resolve("k-killed");
    // The "process dies" right after the second epoch's checkpoint, before any log hears of the epoch's end, and
    // its log writers are never closed (nothing more reaches the files).
    TrainingListener dies =
        new TrainingListener() {
          @Override
          public void onEpoch(EpochMetrics e) {
            if (e.epoch() == 1) {
              throw new IllegalStateException("killed");
            }
          }
        };
    RunLogs abandoned = new RunLogs(killed);
    assertThrows(IllegalStateException.class, () -> run(config(3), killed.resolve("checkpoints"), false, List.of(dies, abandoned)));
    try (RunLogs logs = new RunLogs(killed)) {
      run(config(3), killed.resolve("checkpoints"), true, List.of(logs));
    }
    assertEquals(
        Files.readAllLines(whole.resolve("metrics/steps.jsonl")), Files.readAllLines(killed.resolve("metrics/steps.jsonl")));
    assertEquals(3, Files.readAllLines(killed.resolve("metrics/epochs.jsonl")).size());
  }

  @Test
  void selfDistillationResumesExactlyWithItsPreviousEpochPredictions() {
    Objective pskd = new ProgressiveSelfDistillation(0.8f, 4);
    Run whole = run(config(4), pskd, work.resolve("ps-whole"), false, List.of());
    TrainingListener stopAfterTwo =
        new StopAfterEpochs(2);
    Path dir = work.resolve("ps-parts");
    run(config(4), pskd, dir, false, List.of(stopAfterTwo));
    Run resumed = run(config(4), pskd, dir, true, List.of());
    assertEquals(figures(whole.history()), figures(resumed.history()));
    assertAllClose(resumed.logits(), whole.logits(), Assertions.EXACT);
  }
}
