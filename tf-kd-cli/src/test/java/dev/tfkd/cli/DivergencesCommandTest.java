package dev.tfkd.cli;

import static dev.tfkd.cli.DemoCommandTest.tfkd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.cli.DemoCommandTest.Run;
import dev.tfkd.losses.Divergences;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DivergencesCommandTest {

  @Test
  void listsEveryDivergenceWithDefaultsPolicySyntaxAndPsKd() {
    Run r = tfkd("divergences");
    assertEquals(0, r.code(), r.err());
    for (Divergences.Entry e : Divergences.entries()) {
      assertTrue(r.out().contains("  " + e.name() + " "), e.name() + " missing:\n" + r.out());
      assertTrue(r.out().contains(e.description()), r.out());
    }
    assertTrue(r.out().contains("cswt(Tmin=2, Tmax=6)"), r.out());
    assertTrue(r.out().contains("Spec syntax"), r.out());
    assertTrue(r.out().contains("PS-KD"), r.out());
  }

  @Test
  void checksASpecAndPrintsEveryParameter() {
    Run r = tfkd("divergences", "dkd(beta=4, warmup=0)");
    assertEquals(0, r.code(), r.err());
    assertEquals("dkd: Dkd[alpha=1.0, beta=4.0, temperature=4.0, warmupEpochs=0]", r.out().strip());
    Run c = tfkd("divergences", "cswt:kl");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().contains("minTemperature=2.0, maxTemperature=6.0"), c.out());
  }

  @Test
  void badSpecExitsTwoWithOneLine() {
    Run r = tfkd("divergences", "kl(T=-1)");
    assertEquals(2, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("T must be in [0.01, 100], got -1"), r.err());
  }

  @Test
  void demoRejectsABadDivergenceBeforeTrainingAndWritesNothing(@TempDir Path root) throws Exception {
    Path out = root.resolve("models");
    Run r = tfkd("demo", "--out", out.toString(), "--divergence", "nope");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("unknown divergence 'nope'"), r.err());
    assertFalse(Files.exists(out), "nothing is written for bad input");
  }

  @Test
  void demoDistillsWithTheChosenDivergence(@TempDir Path root) {
    Run r =
        tfkd(
            "demo", "--out", root.toString(), "--divergence", "cswt:dkd(warmup=0)", "--train-size", "600",
            "--student-train-size", "300", "--test-size", "200", "--teacher-epochs", "2", "--student-epochs", "2",
            "--threads", "1");
    assertEquals(0, r.code(), r.err());
    // The objective is described by its spec, which the parser reads back.
    assertTrue(r.out().contains("0.9*cswt(Tmin=2, Tmax=6):dkd(alpha=1, beta=8, T=4, warmup=0)"), r.out());
    assertTrue(r.out().contains("| student-distilled "), r.out());
  }
}
