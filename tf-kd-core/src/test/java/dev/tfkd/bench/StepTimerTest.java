package dev.tfkd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
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
    assertTrue(t.rssAfterWarmupKb() >= 0);
  }

  @Test
  void rssAndRandomDataAreSane() {
    Rss r = Rss.read();
    if (java.nio.file.Files.exists(java.nio.file.Path.of("/proc/self/status"))) {
      assertTrue(r.currentKb() > 0 && r.peakKb() >= r.currentKb() / 2, r.toString());
    }
    Dataset d = RandomData.normal(1000, new long[] {3}, 5, 7);
    double mean = 0;
    double sq = 0;
    for (float v : d.features()) {
      mean += v;
      sq += v * v;
    }
    mean /= d.features().length;
    sq /= d.features().length;
    assertEquals(0, mean, 0.1);
    assertEquals(1, sq, 0.1);
    assertFalse(java.util.Arrays.stream(d.labels()).anyMatch(y -> y < 0 || y >= 5));
  }

  @Test
  void matmulCeilingIsPositive() {
    double g = MatmulCeiling.measure(64, dev.tfkd.training.SessionSettings.ofThreads(1).toConfigProto(), new Protocol(2, 0.02, 1)).gflops();
    assertTrue(g > 0 && Double.isFinite(g), "gflops " + g);
  }
}
