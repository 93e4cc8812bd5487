package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tfkd distill} with two teachers end to end, its configuration, its refusals, and a killed run resumed. */
class SeveralTeachersCommandTest {
  @TempDir static Path shared;
  @TempDir Path dir;

  private static Path second;

  /** A second, different teacher: a smaller MLP trained for one epoch by {@code tfkd train-teacher}. */
  @BeforeAll
  static void trainSecondTeacher() {
    DemoCommandTest.Run r =
        DemoCommandTest.tfkd(
            "train-teacher", "--train", "gmm", "--model", "mlp:8", "--epochs", "1", "--threads", "1", "--seed", "3",
            "--run-dir", shared.resolve("t2").toString(), "--export-dir", shared.resolve("models").toString());
    assertEquals(0, r.code(), r.err());
    second = shared.resolve("models/teacher-mll/1");
    assertTrue(Files.isRegularFile(second.resolve("saved_model.pb")), r.out());
  }

  private static String[] distill(Path runDir, String... more) {
    String[] base = {
      "distill", "--teacher", TestTeacher.path().toString(), "--teacher", second.toString(), "--train", "gmm",
      "--test", "gmm", "--model", "mlp:16", "--threads", "1", "--run-dir", runDir.toString()
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void twoTeachersWithConfidenceWeightsDistilAndAreRecordedInTheConfiguration() throws Exception {
    Path run = dir.resolve("run");
    DemoCommandTest.Run r = DemoCommandTest.tfkd(distill(run, "--epochs", "2", "--teacher-combination", "ca-mkd"));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("0.1*ce + 0.9*ca-mkd[2 teachers](kl(T=4))"), r.out());
    assertTrue(r.out().contains("| teacher-1 | 5000 |") && r.out().contains("| teacher-2 | 5000 |"), r.out());
    assertTrue(r.out().contains("| student | 5000 |"), r.out());
    assertTrue(Files.isRegularFile(run.resolve("export/student/1/saved_model.pb")));
    String config = Files.readString(run.resolve("run_config.pbtxt"));
    assertTrue(config.contains("teacher_combination: \"ca-mkd\""), config);
    assertEquals(2, config.split("teachers \\{", -1).length - 1, config);
    // The saved configuration repeats the run.
    DemoCommandTest.Run again =
        DemoCommandTest.tfkd(
            "distill", "--config", run.resolve("run_config.pbtxt").toString(), "--run-dir", dir.resolve("again").toString());
    assertEquals(0, again.code(), again.err());
    assertEquals(DistillCommandTest.figures(run), DistillCommandTest.figures(dir.resolve("again")));
  }

  @Test
  void perTeacherFlagsAndWeightsMustMatchTheTeachers() {
    DemoCommandTest.Run r =
        DemoCommandTest.tfkd(distill(dir.resolve("a"), "--teacher-output", "logits", "--teacher-output", "logits", "--teacher-output", "x"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--teacher-output: give it once for every teacher or once per --teacher"), r.err());
    r = DemoCommandTest.tfkd(distill(dir.resolve("b"), "--teacher-combination", "weighted"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--teacher-weight"), r.err());
    r = DemoCommandTest.tfkd(distill(dir.resolve("c"), "--teacher-combination", "weighted", "--teacher-weight", "1"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("one weight per --teacher"), r.err());
    r = DemoCommandTest.tfkd(distill(dir.resolve("d"), "--teacher-combination", "majority"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--teacher-combination") && r.err().contains("ca-mkd"), r.err());
    r = DemoCommandTest.tfkd(distill(dir.resolve("e"), "--teacher-combination", "mean-probs", "--divergence", "mse-logits"));
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("mean-probs"), r.err());
    // Per-teacher values in order are accepted.
    r =
        DemoCommandTest.tfkd(
            distill(
                dir.resolve("f"), "--epochs", "1", "--teacher-output", "logits", "--teacher-output", "logits",
                "--teacher-combination", "weighted", "--teacher-weight", "3", "--teacher-weight", "1"));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("weighted(0.7500, 0.2500)[2 teachers]"), r.out());
  }

  @Test
  void killedRandomTeacherRunResumesLikeAnUninterruptedRun() throws Exception {
    Path killed = dir.resolve("killed");
    String[] args = distill(killed, "--epochs", "2", "--batch-size", "40", "--seed", "5", "--teacher-combination", "random");
    KillAndResumeTest.runAndKill(killed, dir.resolve("child.log"), 500, 120, args);
    assertEquals("epoch-0001", Files.readString(killed.resolve("checkpoints/latest")).strip());
    assertTrue(!Files.exists(killed.resolve("results.json")), "the run finished before the kill");
    DemoCommandTest.Run resumed = DemoCommandTest.tfkd("distill", "--resume", killed.toString());
    assertEquals(0, resumed.code(), resumed.err());
    Path whole = dir.resolve("whole");
    DemoCommandTest.Run uninterrupted =
        DemoCommandTest.tfkd(distill(whole, "--epochs", "2", "--batch-size", "40", "--seed", "5", "--teacher-combination", "random"));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());
    assertEquals(DistillCommandTest.figures(whole), DistillCommandTest.figures(killed));
    assertEquals(
        Files.readAllLines(whole.resolve("metrics/steps.jsonl")), Files.readAllLines(killed.resolve("metrics/steps.jsonl")));
  }
}
