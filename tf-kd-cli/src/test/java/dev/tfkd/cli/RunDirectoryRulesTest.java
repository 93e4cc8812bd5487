package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a run writes and when: a refused run (exit 2) writes nothing, an export root that is a file is refused
 * before the first step, and a resumed run that finds its export published reuses it.
 */
class RunDirectoryRulesTest {
  @TempDir Path dir;

  private static DemoCommandTest.Run tfkd(String... args) {
    return DemoCommandTest.tfkd(args);
  }

  private static String[] teacherRun(Path runDir, String... more) {
    return modelRun(runDir, "mlp:8", more);
  }

  private static String[] modelRun(Path runDir, String model, String... more) {
    String[] base = {
      "train-teacher", "--train", "gmm", "--model", model, "--epochs", "1", "--threads", "1", "--run-dir",
      runDir.toString()
    };
    return Stream.concat(Stream.of(base), Stream.of(more)).toArray(String[]::new);
  }

  @Test
  void aRunRefusedForDiskSpaceWritesNothing() {
    Path run = dir.resolve("runs/huge");
    // A small model whose logs of two billion epochs (16 KiB each) need far more disk than any machine has,
    // refused before the run directory exists. (A model too large for the disk is refused for memory first.)
    var r =
        tfkd("train-teacher", "--train", "gmm", "--model", "mlp:8", "--epochs", "2000000000", "--threads", "1",
            "--run-dir", run.toString());
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains(" free, but the checkpoints and export of "), r.err());
    assertFalse(Files.exists(run), "a refused run left " + run);
    assertFalse(Files.exists(dir.resolve("runs")), "a refused run left the parent it would have created");
  }

  @Test
  void anExportDirThatIsAFileIsRefusedBeforeTheFirstStep() throws Exception {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    Path run = dir.resolve("run");
    var r = tfkd(teacherRun(run, "--export-dir", file.toString()));
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals("tfkd train-teacher: --export-dir " + file + ": is a file, not a directory", r.err().strip());
    assertFalse(r.out().contains("epoch"), "trained before refusing: " + r.out());
    assertFalse(Files.exists(run), "a refused run left " + run);
    assertEquals("x", Files.readString(file));
  }

  @Test
  void resumingAFinishedRunReusesItsPublishedExport() throws Exception {
    Path run = dir.resolve("run");
    var first = tfkd(teacherRun(run));
    assertEquals(0, first.code(), first.err());
    Path version = run.resolve("export/teacher-mll/1");
    assertTrue(Files.isRegularFile(version.resolve("saved_model.pb")));
    String results = Files.readString(run.resolve("results.json"));

    var again = tfkd("train-teacher", "--resume", run.toString());
    assertEquals(0, again.code(), again.err());
    assertTrue(
        again.out().contains("export:   " + version + " (already published by this run; not exported again)"),
        again.out());
    try (Stream<Path> versions = Files.list(run.resolve("export/teacher-mll"))) {
      assertEquals(1, versions.filter(p -> !p.getFileName().toString().startsWith(".")).count());
    }
    assertEquals(results, Files.readString(run.resolve("results.json")));
  }
}
