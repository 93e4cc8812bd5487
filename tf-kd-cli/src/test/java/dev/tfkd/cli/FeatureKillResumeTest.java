package dev.tfkd.cli;

import static dev.tfkd.cli.KillAndResumeTest.runAndKill;
import static dev.tfkd.cli.KillAndResumeTest.withoutTimes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Shapes;
import dev.tfkd.data.io.TestFiles;
import dev.tfkd.features.FeatureLosses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every feature method of the {@link FeatureLosses} registry (methods registered later included), from the command
 * line: a {@code distill} child process with a ResNet-8 teacher and student on the built-in shapes (16x16 grey, 4
 * classes, 256 training examples) is killed with SIGKILL inside its second epoch, after its first checkpoint, then
 * resumed with {@code --resume}; its results, step and epoch logs and exported variables must equal those of an
 * uninterrupted run bit for bit (one thread, every run a fresh process), so adapters, their optimizer slots and CRD's memory banks are saved and
 * restored exactly. The export holds no adapter variable. The default build runs {@link #DEFAULT_RUN}; the {@code
 * kill-campaign} profile ({@code -Dtfkd.killCampaign=true}) runs the whole registry.
 */
class FeatureKillResumeTest {
  /** The method run in the default build: CRD, whose memory banks are training state beside the weights. */
  static final Set<String> DEFAULT_RUN = Set.of("crd");

  /**
   * Smaller settings where a method's defaults would make the run slow on two cores without changing what is
   * tested: CRD gathers {@code 2 B (K+1) dim} floats per step.
   */
  static final Map<String, String> SPECS = Map.of("crd", "crd(negatives=512)");

  private static final int EPOCHS = 3;
  private static final int TRAIN = 256;
  private static final int BATCH = 32;

  @TempDir static Path root;
  static Path data;
  static Path teacher;

  @BeforeAll
  static void trainTeacher() throws Exception {
    data = root.resolve("data");
    Files.createDirectories(data);
    Shapes shapes = new Shapes(16, 16, 1, 4);
    TestFiles.writeIdx(shapes.sample(TRAIN, 1, "s"), data, "train");
    TestFiles.writeIdx(shapes.sample(64, 2, "s"), data, "t10k");
    DemoCommandTest.Run r =
        DemoCommandTest.tfkd(
            "train-teacher", "--train", data.resolve("train-images-idx3-ubyte.gz").toString(), "--test", data.toString(),
            "--model", "resnet8", "--epochs", "2", "--batch-size", "32", "--threads", "1", "--run-dir",
            root.resolve("teacher-run").toString(), "--export-dir", root.resolve("export").toString());
    assertEquals(0, r.code(), r.err());
    teacher = root.resolve("export").resolve("teacher-mll");
  }

  static Stream<String> methods() {
    return FeatureLosses.entries().stream().map(FeatureLosses.Entry::name);
  }

  static String[] distill(Path run, String method) {
    return new String[] {
      "distill", "--teacher", teacher.toString(), "--train", data.resolve("train-images-idx3-ubyte.gz").toString(),
      "--test", data.toString(), "--model", "resnet8", "--epochs", String.valueOf(EPOCHS), "--batch-size",
      String.valueOf(BATCH), "--threads", "1", "--seed", "4", "--loss",
      "ce:1, kl(T=4):0.9, " + SPECS.getOrDefault(method, method), "--run-dir", run.toString()
    };
  }

  /**
   * Runs {@code args} in a child JVM to its end and returns its output. Every run of the comparison is a fresh
   * process, as a user's runs are: a run inside a JVM that has already trained (here, the teacher) can differ from a
   * fresh process's in the last bits of its convolutions, which is not what this test is about.
   */
  static String child(Path log, String... args) throws Exception {
    Process p = KillAndResumeTest.start(log, args);
    if (!p.waitFor(600, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
      throw new AssertionError("still running after 600 s: " + String.join(" ", args));
    }
    String out = KillAndResumeTest.read(log);
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("methods")
  void killedAndResumedEndsBitIdentical(String method) throws Exception {
    Assumptions.assumeTrue(
        DEFAULT_RUN.contains(method) || Boolean.getBoolean("tfkd.killCampaign"),
        method + " runs in the kill-campaign profile");
    Path dir = Files.createDirectories(root.resolve(method));
    Path killed = dir.resolve("killed");
    // Killed as soon as the first checkpoint is published (the step log is written behind the steps, so waiting for
    // its lines could let the run reach its end): the kill lands in the second epoch.
    runAndKill(killed, dir.resolve("child.log"), 0, 0, distill(killed, method));
    String latest = Files.readString(killed.resolve("checkpoints/latest")).strip();
    assertFalse(latest.equals(String.format("epoch-%04d", EPOCHS)), method + ": training had ended before the kill");
    assertFalse(Files.exists(killed.resolve("results.json")), method + ": the run finished before the kill");

    String resumed = child(dir.resolve("resumed.log"), "distill", "--resume", killed.toString());
    assertTrue(resumed.contains("resuming after epoch"), resumed);
    Path whole = dir.resolve("whole");
    child(dir.resolve("whole.log"), distill(whole, method));

    assertEquals(DistillCommandTest.figures(whole), DistillCommandTest.figures(killed), method);
    assertEquals(
        Files.readAllLines(whole.resolve("metrics/steps.jsonl")),
        Files.readAllLines(killed.resolve("metrics/steps.jsonl")), method);
    assertEquals(
        withoutTimes(Files.readAllLines(whole.resolve("metrics/epochs.jsonl"))),
        withoutTimes(Files.readAllLines(killed.resolve("metrics/epochs.jsonl"))), method);
    for (String f : List.of("variables.index", "variables.data-00000-of-00001")) {
      Path exported = Path.of("export/student/1/variables", f);
      assertArrayEquals(
          Files.readAllBytes(whole.resolve(exported)), Files.readAllBytes(killed.resolve(exported)), method + " " + f);
    }
    String index =
        new String(Files.readAllBytes(killed.resolve("export/student/1/variables/variables.index")), StandardCharsets.ISO_8859_1);
    assertFalse(index.contains("adapter"), method + ": an adapter variable in the export");
  }
}
