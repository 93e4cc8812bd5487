package dev.tfkd.cli;

import dev.tfkd.training.TrainingListener;
import java.io.PrintWriter;

/** Prints one line per epoch with the hard, soft and total loss (plain lines suit terminals and logs alike). */
final class EpochPrinter implements TrainingListener {
  private final PrintWriter out;
  private final int epochs;

  EpochPrinter(PrintWriter out, int epochs) {
    this.out = out;
    this.epochs = epochs;
  }

  @Override
  public void onEpoch(EpochMetrics e) {
    int n = e.epoch() + 1;
    if (n == 1 || n == epochs || n % 10 == 0) {
      out.printf(
          java.util.Locale.ROOT,
          "  epoch %3d/%d  loss %.4f  (hard %.4f, soft %.4f)  %.1fs%n",
          n, epochs, e.total(), e.hard(), e.soft(), e.seconds());
      out.flush();
    }
  }
}
