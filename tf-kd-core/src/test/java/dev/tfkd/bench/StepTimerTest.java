package dev.tfkd.bench;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.testing.Assertions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StepTimerTest {
  @Test
  void timesTheWindowsAfterWarmUpThenAsksToStop() throws Exception {
    StepTimer t = new StepTimer(new Protocol(3, 0.02, 2));
    int steps = 0;
    while (!t.stopRequested()) {
      Thread.sleep(2);
      t.stepDone();
      steps++;
      assertTrue(steps < 10_000, "never finished");
    }
    assertEquals(2, t.windowRates().length);
    // Sleeping 2 ms a step cannot exceed 500 steps/s.
    assertTrue(t.medianRate() > 10 && t.medianRate() <= 500, "rate " + t.medianRate());
  }

  @Test
  void readsTheResidentSizeWhenTheWarmUpEnds() {
    assumeTrue(hasProcfs(), "Rss reads /proc/self/status, which only Linux has");
    // A window of 1000 s never closes: only the warm-up's bookkeeping runs, with no timing involved.
    StepTimer t = new StepTimer(new Protocol(2, 1000, 1));
    t.stepDone();
    assertEquals(0, t.rssAfterWarmupKb(), "read before the warm-up ends");
    t.stepDone();
    long now = Rss.read().currentKb();
    // This JVM with TensorFlow loaded holds tens of MB; the reading is the same process a moment earlier.
    assertTrue(t.rssAfterWarmupKb() > 10_000 && t.rssAfterWarmupKb() < 4 * now, t.rssAfterWarmupKb() + " kB, now " + now);
  }

  @Test
  void rssReadsThisProcessOnLinux() {
    assumeTrue(hasProcfs(), "Rss reads /proc/self/status, which only Linux has");
    Rss r = Rss.read();
    assertTrue(r.currentKb() > 10_000 && r.peakKb() >= r.currentKb() / 2, r.toString());
  }

  @Test
  void randomDataIsStandardNormalWithLabelsInRange() {
    Dataset d = RandomData.normal(1000, new long[] {3}, 5, 7);
    double mean = 0;
    double sq = 0;
    for (float v : d.features()) {
      mean += v;
      sq += v * v;
    }
    mean /= d.features().length;
    sq /= d.features().length;
    assertAllClose(mean, 0, 0, 0.1);
    assertAllClose(sq, 1, 0, 0.1);
    assertFalse(java.util.Arrays.stream(d.labels()).anyMatch(y -> y < 0 || y >= 5));
  }

  private static boolean hasProcfs() {
    return Files.isReadable(Path.of("/proc/self/status"));
  }

  @Test
  void matmulCeilingIsPositive() {
    double g = MatmulCeiling.measure(64, dev.tfkd.training.SessionSettings.ofThreads(1).toConfigProto(), new Protocol(2, 0.02, 1)).gflops();
    assertTrue(g > 0 && Double.isFinite(g), "gflops " + g);
  }
}
