package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training process killed with SIGKILL in the middle of an epoch, then resumed with {@code --resume}, ends with
 * exactly the metrics of an uninterrupted run with the same seed (one thread). The run is a child JVM running the
 * CLI, so the kill is real.
 */
class KillAndResumeTest {
  @TempDir Path dir;

  static Process start(Path log, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Tfkd.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    return pb.start();
  }

  static long lines(Path f) throws IOException {
    if (!Files.exists(f)) {
      return 0;
    }
    try (var s = Files.lines(f)) {
      return s.count();
    }
  }

  /**
   * Starts {@code args} in a child JVM and kills it with SIGKILL once it has published its first checkpoint and
   * logged at least {@code stepsPast} further steps (so the kill lands inside the next epoch).
   */
  static void runAndKill(Path runDir, Path log, long stepsPerEpoch, long stepsPast, String... args) throws Exception {
    Process p = start(log, args);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!(Files.exists(runDir.resolve("checkpoints/latest"))
          && lines(runDir.resolve("metrics/steps.jsonl")) >= stepsPerEpoch + stepsPast)) {
        assertTrue(p.isAlive(), () -> "the run ended before it was killed: " + read(log));
        assertTrue(System.nanoTime() < deadline, () -> "no checkpoint after 120 s: " + read(log));
        Thread.sleep(20);
      }
    } finally {
      p.destroyForcibly(); // SIGKILL on Linux
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      return e.toString();
    }
  }

  @Test
  void killedMidEpochAndResumedEndsLikeAnUninterruptedRun() throws Exception {
    Path killed = dir.resolve("killed");
    String[] args = DistillCommandTest.distill(killed, "--epochs", "2", "--batch-size", "40", "--seed", "5");
    // 20,000 examples in batches of 40: 500 steps per epoch.
    runAndKill(killed, dir.resolve("child.log"), 500, 120, args);
    String latest = Files.readString(killed.resolve("checkpoints/latest")).strip();
    assertEquals("epoch-0001", latest);
    // The child had logged steps of the second epoch: the kill came mid-epoch, after the checkpoint.
    assertTrue(lines(killed.resolve("metrics/steps.jsonl")) > 500);
    assertTrue(!Files.exists(killed.resolve("results.json")), "the run finished before the kill");

    DemoCommandTest.Run resumed = DemoCommandTest.tfkd("distill", "--resume", killed.toString());
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.out().contains("resuming after epoch"), resumed.out());

    Path whole = dir.resolve("whole");
    DemoCommandTest.Run uninterrupted =
        DemoCommandTest.tfkd(DistillCommandTest.distill(whole, "--epochs", "2", "--batch-size", "40", "--seed", "5"));
    assertEquals(0, uninterrupted.code(), uninterrupted.err());

    assertEquals(DistillCommandTest.figures(whole), DistillCommandTest.figures(killed));
    assertEquals(
        Files.readAllLines(whole.resolve("metrics/steps.jsonl")),
        Files.readAllLines(killed.resolve("metrics/steps.jsonl")));
    assertEquals(
        withoutTimes(Files.readAllLines(whole.resolve("metrics/epochs.jsonl"))),
        withoutTimes(Files.readAllLines(killed.resolve("metrics/epochs.jsonl"))));
  }

  static List<String> withoutTimes(List<String> lines) {
    return lines.stream().map(l -> l.replaceAll("\"seconds\":[^,}]*", "")).toList();
  }
}
