package dev.tfkd.cli;

import static dev.tfkd.cli.DemoCommandTest.tfkd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.cli.DemoCommandTest.Run;
import dev.tfkd.data.io.CorruptFiles;
import dev.tfkd.data.io.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resource bombs (a divergence that unrolls a billion iterations, 100,000 threads, a model larger than the machine)
 * and corrupt data are refused before any work: exit code 2, one line on stderr with the numbers or the file, and no
 * run directory.
 */
class ResourceBoundsTest {
  @TempDir Path dir;

  static void badInput(Run r, String command, String... parts) {
    assertEquals(2, r.code(), r.err());
    List<String> lines = r.err().strip().lines().toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).startsWith("tfkd " + command + ": "), lines.get(0));
    for (String p : parts) {
      assertTrue(lines.get(0).contains(p), "'" + p + "' not in " + lines.get(0));
    }
  }

  @Test
  void aSinkhornOfABillionIterationsIsRefusedEverywhereItIsParsed() {
    badInput(tfkd("divergences", "sinkhorn(iters=1e9)"), "divergences", "iters must be an integer in [1, 1000], got 1e9");
    Path run = dir.resolve("run");
    badInput(
        tfkd("distill", "--teacher", dir.resolve("t").toString(), "--train", "gmm", "--divergence", "sinkhorn(iters=1e9)",
            "--run-dir", run.toString()),
        "distill", "[1, 1000]");
    assertFalse(Files.exists(run));
    Run list = tfkd("divergences");
    assertTrue(list.out().contains("iters an integer in [1, 1000], default 20"), list.out());
    assertTrue(list.out().contains("Tmin in [0.01, 100], default 2"), list.out());
  }

  @Test
  void aHundredThousandThreadsAreRefusedByEveryCommandThatTakesThreads() throws IOException {
    Path run = dir.resolve("run");
    String bound = "must be in [0, 256]";
    badInput(tfkd("train-teacher", "--train", "gmm", "--threads", "100000", "--run-dir", run.toString()), "train-teacher",
        "--threads " + bound, "100000");
    badInput(tfkd("distill", "--teacher", dir.resolve("t").toString(), "--train", "gmm", "--threads", "100000",
        "--run-dir", run.toString()), "distill", bound);
    assertFalse(Files.exists(run));
    badInput(tfkd("bench", "--threads", "100000"), "bench", "--threads " + bound);
    badInput(tfkd("bench", "--inter-op-threads", "100000"), "bench", "--inter-op-threads " + bound);
    badInput(tfkd("demo", "--threads", "100000", "--out", dir.resolve("demo").toString()), "demo", bound);
    assertFalse(Files.exists(dir.resolve("demo")));
    Path cfg = Files.writeString(dir.resolve("run.pbtxt"), "training { threads: 100000 }\n");
    badInput(tfkd("train-teacher", "--config", cfg.toString(), "--train", "gmm", "--run-dir", run.toString()),
        "train-teacher", "--threads " + bound);
    assertFalse(Files.exists(run));
  }

  @Test
  void aModelLargerThanTheMachineIsRefusedWithBothFigures() throws IOException {
    // 784 inputs into 10^8 hidden units: 78 billion weights, over a terabyte with Adam, on any test machine.
    Path images = TestFiles.mnistLike(dir, "train", 5, 28, 28, 3, true);
    Path run = dir.resolve("run");
    Run r = tfkd("train-teacher", "--train", images.toString(), "--model", "mlp:100000000", "--run-dir", run.toString());
    badInput(r, "train-teacher", "model mlp:100000000 needs about ", "Adam slots", "at batch 128", "GB available");
    assertFalse(Files.exists(run));
    r = tfkd("train-teacher", "--train", images.toString(), "--model", "mlp:100000000", "--optimizer", "sgd",
        "--run-dir", run.toString());
    badInput(r, "train-teacher", "SGD momentum slots");
    assertFalse(Files.exists(run));
    // Beyond the width bound: refused by the spec itself.
    badInput(tfkd("train-teacher", "--train", images.toString(), "--model", "mlp:20000000000", "--run-dir", run.toString()),
        "train-teacher", "[1, 100000000]");
    Run models = tfkd("models", "--input", "28x28x1", "--classes", "10");
    assertTrue(models.out().contains("bounds: hidden layers 0 to 1000, widths 1 to 100000000"), models.out());
  }

  @Test
  void aSampleOfTheCorruptFileCampaignExitsTwoNamingTheFile() throws IOException {
    List<CorruptFiles.Case> all = CorruptFiles.all(dir.resolve("campaign"));
    List<CorruptFiles.Case> sample = new ArrayList<>();
    for (int i = 0; i < all.size(); i += 7) {
      sample.add(all.get(i));
    }
    assertTrue(sample.size() >= 30, "sample of " + sample.size());
    for (CorruptFiles.Case c : sample) {
      Run r =
          c.format() == null
              ? tfkd("data", c.data().toString())
              : tfkd("data", c.data().toString(), "--format", c.format());
      badInput(r, "data", c.file().toString());
      assertEquals("", r.out(), c.name());
    }
  }

  @Test
  void trainingOnCorruptDataExitsTwoAndCreatesNoRunDirectory() throws IOException {
    List<CorruptFiles.Case> all = CorruptFiles.all(dir.resolve("campaign"));
    int tried = 0;
    for (int i = 3; i < all.size(); i += 40) {
      CorruptFiles.Case c = all.get(i);
      Path run = dir.resolve("run" + i);
      List<String> teacher = new ArrayList<>(List.of("train-teacher", "--train", c.data().toString(), "--run-dir", run.toString()));
      List<String> distill =
          new ArrayList<>(List.of("distill", "--teacher", dir.resolve("t").toString(), "--train", c.data().toString(),
              "--run-dir", run.toString()));
      if (c.format() != null) {
        teacher.addAll(List.of("--format", c.format()));
        distill.addAll(List.of("--format", c.format()));
      }
      badInput(tfkd(teacher.toArray(String[]::new)), "train-teacher", c.file().toString());
      assertFalse(Files.exists(run), c.name());
      badInput(tfkd(distill.toArray(String[]::new)), "distill", c.file().toString());
      assertFalse(Files.exists(run), c.name());
      tried++;
    }
    assertTrue(tried >= 5, "tried " + tried);
  }
}
