package dev.tfkd.bench;

/**
 * How a rate is timed: {@code warmupSteps} untimed steps, then {@code windows} windows of at least
 * {@code windowSeconds} each; the result is the median of the windows' steps per second. The defaults (20 steps,
 * 5 windows of 2 s) are the protocol of the peer benchmarks in {@code shared/bench}, so the figures compare.
 *
 * @param warmupSteps untimed steps first, >= 0
 * @param windowSeconds minimum length of a window, > 0
 * @param windows timed windows, >= 1
 */
public record Protocol(int warmupSteps, double windowSeconds, int windows) {
  /** The protocol used for the peer comparisons. */
  public static final Protocol PEERS = new Protocol(20, 2.0, 5);

  /**
   * Validates the protocol; throws IllegalArgumentException for negative warm-up, a non-positive window or no window.
   */
  public Protocol {
    if (warmupSteps < 0 || !(windowSeconds > 0) || Double.isInfinite(windowSeconds) || windows < 1) {
      throw new IllegalArgumentException(
          "bad timing protocol: warm-up " + warmupSteps + " steps, windows of " + windowSeconds + " s, " + windows
              + " windows");
    }
  }
}
