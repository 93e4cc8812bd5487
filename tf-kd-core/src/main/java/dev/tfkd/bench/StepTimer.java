package dev.tfkd.bench;

import dev.tfkd.training.TrainingListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times steps by {@link Protocol}: counts warm-up steps, then closes a window at the first step that ends at least
 * {@code windowSeconds} after the window opened, and asks the run to stop after the last window. Works as a {@link
 * TrainingListener} on a real training run, or driven by hand through {@link #stepDone()}.
 */
public final class StepTimer implements TrainingListener {
  private final Protocol protocol;
  private final List<Double> rates = new ArrayList<>();
  private final List<Double> cpuPerStep = new ArrayList<>();
  private long windowCpu;
  private long steps;
  private long windowStart;
  private long windowSteps;
  private long samples;
  private long rssAfterWarmup;

  /**
   * A timer following {@code protocol}.
   *
   * @param protocol warm-up steps and measurement windows
   */
  public StepTimer(Protocol protocol) {
    this.protocol = protocol;
  }

  @Override
  public void onStep(StepMetrics step) {
    samples += step.examples();
    stepDone();
  }

  /** Records that one step has finished now. */
  public void stepDone() {
    steps++;
    long now = System.nanoTime();
    // The first window opens when the warm-up's last step ends (after the first step when there is no warm-up:
    // a window needs a start time).
    long warm = Math.max(1, protocol.warmupSteps());
    if (steps < warm || done()) {
      return;
    }
    if (steps == warm) {
      windowStart = now;
      windowCpu = processCpuNanos();
      windowSteps = 0;
      rssAfterWarmup = Rss.read().currentKb();
      return;
    }
    windowSteps++;
    double elapsed = (now - windowStart) / 1e9;
    if (elapsed >= protocol.windowSeconds()) {
      rates.add(windowSteps / elapsed);
      long cpu = processCpuNanos();
      cpuPerStep.add(cpu < 0 ? -1.0 : (cpu - windowCpu) / 1e6 / windowSteps);
      windowCpu = cpu;
      windowStart = now;
      windowSteps = 0;
    }
  }

  @Override
  public boolean stopRequested() {
    return done();
  }

  /** Whether every window has been timed. */
  public boolean done() {
    return rates.size() >= protocol.windows();
  }

  /** The steps per second of each window so far. */
  public double[] windowRates() {
    return rates.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The median of the window rates; NaN before the first window closed. */
  public double medianRate() {
    double[] r = windowRates();
    if (r.length == 0) {
      return Double.NaN;
    }
    Arrays.sort(r);
    return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
  }

  /**
   * The median over windows of this process's CPU time per step (all threads, ms), or NaN where the JVM cannot
   * tell. On a machine shared with other work it is steadier than the wall-clock rate: it counts only this
   * process's cycles.
   */
  public double medianCpuMsPerStep() {
    double[] c = cpuPerStep.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    if (c.length == 0 || c[0] < 0) {
      return Double.NaN;
    }
    return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
  }

  private static long processCpuNanos() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** Steps counted, warm-up included. */
  public long steps() {
    return steps;
  }

  /** Examples seen by the steps reported through {@link #onStep}. */
  public long samples() {
    return samples;
  }

  /** Resident memory (kB) when the warm-up ended. */
  public long rssAfterWarmupKb() {
    return rssAfterWarmup;
  }
}
