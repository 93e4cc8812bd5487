package dev.tfkd.cli;

import dev.tfkd.training.TrainingListener;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * Shows a run's progress. On a terminal: one progress bar per epoch, redrawn in place at most ten times a second,
 * with the step, ETA, samples per second and the hard, soft and total loss; the finished bar stays as the epoch's
 * line. Elsewhere (CI, a log file): a plain line every {@code interval} seconds and one per epoch, no control
 * characters. Not thread-safe.
 */
final class Progress implements TrainingListener {
  private static final int BAR = 24;

  private final PrintWriter out;
  private final String label;
  private final int epochs;
  private final boolean terminal;
  private final long intervalNanos;
  private long epochStart;
  private long lastDraw;
  private long samples;
  private long firstSamples;
  private double sumTotal, sumHard, sumSoft;
  private int seen;

  Progress(PrintWriter out, String label, int epochs, boolean terminal, double intervalSeconds) {
    this.out = out;
    this.label = label;
    this.epochs = epochs;
    this.terminal = terminal;
    this.intervalNanos = (long) (intervalSeconds * 1e9);
  }

  /** Whether output goes to an interactive terminal: a console, not CI, not a dumb terminal. */
  static boolean isTerminal() {
    return System.console() != null
        && System.getenv("CI") == null
        && !"dumb".equals(System.getenv("TERM"));
  }

  @Override
  public void onResume(List<EpochMetrics> history) {
    out.printf(Locale.ROOT, "%s: resuming after epoch %d of %d%n", label, history.size(), epochs);
    out.flush();
  }

  @Override
  public void onStep(StepMetrics s) {
    long now = System.nanoTime();
    if (s.step() == 0) {
      epochStart = now;
      lastDraw = now;
      samples = 0;
      sumTotal = sumHard = sumSoft = 0;
      seen = 0;
    }
    samples += s.examples();
    if (s.step() == 0) {
      // Timing starts when the first step has finished (it includes one-off graph set-up).
      firstSamples = s.examples();
    }
    sumTotal += (double) s.total() * s.examples();
    sumHard += (double) s.hard() * s.examples();
    sumSoft += (double) s.soft() * s.examples();
    seen += s.examples();
    boolean last = s.step() == s.stepsPerEpoch() - 1;
    if (terminal) {
      if (now - lastDraw >= 100_000_000L || s.step() == 0 || last) {
        lastDraw = now;
        out.print("\r" + line(s, now) + "\033[K");
        out.flush();
      }
    } else if (now - lastDraw >= intervalNanos && !last) {
      lastDraw = now;
      out.println(line(s, now));
      out.flush();
    }
  }

  private String line(StepMetrics s, long now) {
    double elapsed = (now - epochStart) / 1e9;
    int done = s.step() + 1;
    boolean timed = done > 1 && elapsed > 0;
    double perStep = timed ? elapsed / (done - 1) : Double.NaN;
    double eta = perStep * (s.stepsPerEpoch() - done);
    int filled = (int) Math.round((double) BAR * done / s.stepsPerEpoch());
    String bar = terminal ? "[" + "=".repeat(filled) + " ".repeat(BAR - filled) + "] " : "";
    boolean last = done == s.stepsPerEpoch();
    return String.format(
        Locale.ROOT,
        "%s epoch %d/%d %s%d/%d  %s %s  %s samples/s  loss %.4f (hard %.4f, soft %.4f)",
        label, s.epoch() + 1, epochs, bar, done, s.stepsPerEpoch(), last ? "took" : "ETA",
        timed ? clock(last ? elapsed : eta) : "-:--",
        timed ? String.format(Locale.ROOT, "%.0f", (samples - firstSamples) / elapsed) : "-",
        sumTotal / seen, sumHard / seen, sumSoft / seen);
  }

  @Override
  public void onEpoch(EpochMetrics e) {
    StringBuilder b = new StringBuilder();
    if (terminal) {
      b.append('\n');
    }
    b.append(
        String.format(
            Locale.ROOT,
            "%s epoch %d/%d done in %s: loss %.4f (hard %.4f, soft %.4f), train accuracy %.4f",
            label, e.epoch() + 1, epochs, clock(e.seconds()), e.total(), e.hard(), e.soft(), e.accuracy()));
    if (e.validation() != null) {
      b.append(
          String.format(
              Locale.ROOT, ", validation accuracy %.4f, loss %.4f", e.validation().accuracy(), e.validation().nll()));
    }
    out.println(b);
    out.flush();
  }

  static String clock(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
