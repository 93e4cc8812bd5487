package dev.tfkd.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory from {@code /proc/self/status} (Linux): {@code VmRSS} now and the peak {@code
 * VmHWM}. Both are 0 where the file does not exist.
 *
 * @param currentKb resident set size now, kB
 * @param peakKb the high-water mark, kB
 */
public record Rss(long currentKb, long peakKb) {
  private static final Path STATUS = Path.of("/proc/self/status");

  /**
   * Reads this process's resident set size.
   *
   * @return the current and peak RSS
   */
  public static Rss read() {
    long rss = 0;
    long hwm = 0;
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith("VmRSS:")) {
          rss = kb(line);
        } else if (line.startsWith("VmHWM:")) {
          hwm = kb(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      // No procfs (not Linux): memory figures read 0 rather than failing the benchmark.
    }
    return new Rss(rss, hwm);
  }

  /**
   * Resets the peak to the current size (writes {@code 5} to {@code /proc/self/clear_refs}), so each benchmark
   * configuration reports its own peak. Returns false where the kernel does not allow it.
   */
  public static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The current resident set size.
   *
   * @return megabytes
   */
  public double currentMb() {
    return currentKb / 1024.0;
  }

  /**
   * The peak resident set size.
   *
   * @return megabytes
   */
  public double peakMb() {
    return peakKb / 1024.0;
  }

  private static long kb(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }
}
