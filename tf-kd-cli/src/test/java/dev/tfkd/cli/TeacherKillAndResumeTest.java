package dev.tfkd.cli;

import static dev.tfkd.cli.KillAndResumeTest.lines;
import static dev.tfkd.cli.KillAndResumeTest.runAndKill;
import static dev.tfkd.cli.KillAndResumeTest.withoutTimes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code train-teacher} process killed with SIGKILL in the middle of an epoch, then resumed with
 * {@code --resume}, ends with exactly the metrics, logs and evaluation of an uninterrupted run with the same seed
 * (one thread): an MCMI teacher killed in its fine-tuning phase (EMA centroids, whose state lives outside the
 * graph), and one killed in its MLL phase, before fine-tuning began.
 */
class TeacherKillAndResumeTest {
  @TempDir Path dir;

  static String[] teacher(Path runDir, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "train-teacher", "--objective", "mcmi", "--centroids", "ema", "--model", "mlp:16", "--threads", "1",
                "--seed", "3", "--run-dir", runDir.toString()));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void mcmiKilledWhileFineTuningResumesExactly() throws Exception {
    Path killed = dir.resolve("killed");
    String[] settings = {"--epochs", "1", "--finetune-epochs", "2", "--batch-size", "16"};
    // 20,000 examples in batches of 16: 1,250 steps per epoch; the kill comes inside the second fine-tuning epoch.
    runAndKill(killed.resolve("finetune"), dir.resolve("child.log"), 1250, 150, teacher(killed, settings));
    assertEquals("epoch-0001", Files.readString(killed.resolve("finetune/checkpoints/latest")).strip());
    assertTrue(lines(killed.resolve("finetune/metrics/steps.jsonl")) > 1250);
    assertFalse(Files.exists(killed.resolve("results.json")), "the run finished before the kill");

    DemoCommandTest.Run resumed = DemoCommandTest.tfkd("train-teacher", "--resume", killed.toString());
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.out().contains("mcmi fine-tuning: resuming after epoch 1 of 2"), resumed.out());

    Path whole = dir.resolve("whole");
    DemoCommandTest.Run uninterrupted = DemoCommandTest.tfkd(teacher(whole, settings));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());
    assertSameRun(whole, killed, List.of("", "finetune/"));
  }

  @Test
  void mcmiKilledInItsMllPhaseResumesExactly() throws Exception {
    Path killed = dir.resolve("killed");
    String[] settings = {"--epochs", "2", "--finetune-epochs", "1", "--batch-size", "32"};
    // 625 steps per epoch; the kill comes inside the second MLL epoch.
    runAndKill(killed, dir.resolve("child.log"), 625, 100, teacher(killed, settings));
    assertEquals("epoch-0001", Files.readString(killed.resolve("checkpoints/latest")).strip());
    assertFalse(Files.exists(killed.resolve("finetune/checkpoints/latest")), "fine-tuning had begun before the kill");

    DemoCommandTest.Run resumed = DemoCommandTest.tfkd("train-teacher", "--resume", killed.toString());
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.out().contains("mll: resuming after epoch 1 of 2"), resumed.out());

    Path whole = dir.resolve("whole");
    DemoCommandTest.Run uninterrupted = DemoCommandTest.tfkd(teacher(whole, settings));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());
    assertSameRun(whole, killed, List.of("", "finetune/"));
  }

  /** The same results, step and epoch logs of every phase, and evaluation beside the export. */
  static void assertSameRun(Path whole, Path killed, List<String> phases) throws Exception {
    String figures = DistillCommandTest.figures(whole);
    assertTrue(figures.contains("\"cmi\":"), figures);
    assertEquals(figures, DistillCommandTest.figures(killed));
    for (String p : phases) {
      assertEquals(
          Files.readAllLines(whole.resolve(p + "metrics/steps.jsonl")),
          Files.readAllLines(killed.resolve(p + "metrics/steps.jsonl")), p);
      List<String> epochs = withoutTimes(Files.readAllLines(whole.resolve(p + "metrics/epochs.jsonl")));
      assertTrue(epochs.get(0).contains("\"val_cmi\":") && epochs.get(0).contains("\"cmi\":"), epochs.get(0));
      assertEquals(epochs, withoutTimes(Files.readAllLines(killed.resolve(p + "metrics/epochs.jsonl"))), p);
    }
    String evaluation = "export/teacher-mcmi/1/evaluation.json";
    assertEquals(Files.readString(whole.resolve(evaluation)), Files.readString(killed.resolve(evaluation)));
    assertTrue(Files.exists(killed.resolve("report/teacher_cmi.png")));
  }
}
