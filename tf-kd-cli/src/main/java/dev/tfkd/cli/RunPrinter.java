package dev.tfkd.cli;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.RunConfigs;
import dev.tfkd.run.ModelScore;
import dev.tfkd.run.RunResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;

/** Prints what the training commands share: the results table, the run's paths and warnings, or its JSON. */
final class RunPrinter {
  private RunPrinter() {}

  /** Where progress goes: stderr when stdout carries JSON. */
  static PrintWriter progressOut(PrintWriter out, PrintWriter err, boolean json) {
    return json ? err : out;
  }

  /** The progress display of each phase of a run. */
  static dev.tfkd.run.PhaseListener progress(PrintWriter to) {
    return (phase, epochs) -> new Progress(to, phase, epochs, Progress.isTerminal(), 10);
  }

  /** Prints the line {@code line} makes of the run's start, unless stdout carries JSON. */
  static java.util.function.Consumer<dev.tfkd.run.RunStart> announce(
      PrintWriter out, boolean json, java.util.function.Function<dev.tfkd.run.RunStart, String> line) {
    return s -> {
      if (!json) {
        out.println(line.apply(s));
      }
    };
  }

  /** The end of a run: the results table and the run's paths (or, with {@code json}, results.json's object). */
  static int finish(RunResult r, RunConfig c, PrintWriter out, PrintWriter err, boolean json) throws IOException {
    if (json) {
      out.println(Files.readString(r.resultsJson(), StandardCharsets.UTF_8).stripTrailing());
      for (String w : r.warnings()) {
        err.println("warning: " + w);
      }
    } else {
      if (!r.scores().isEmpty()) {
        out.println();
        printTable(out, r.scores());
      }
      for (String w : r.warnings()) {
        out.println("warning: " + w);
      }
      out.println();
      out.println("run:      " + r.runDirectory());
      if (r.exportPath() != null) {
        out.println(
            "export:   " + r.exportPath()
                + (r.exportReused() ? " (already published by this run; not exported again)" : ""));
      }
      out.println("report:   " + r.report());
      out.println(
          "repeat:   tfkd " + c.getCommand() + " --config " + r.runDirectory().resolve(RunConfigs.FILE_NAME)
              + " --run-dir NEW_DIR");
    }
    out.flush();
    err.flush();
    return Errors.OK;
  }

  /** A trained teacher's test figures and its CMI on the training data, on one line (nothing without them). */
  static void teacherFigures(PrintWriter out, RunResult r) {
    if (r.trainedScore().isEmpty() || r.trainCmi().isEmpty()) {
      return;
    }
    ModelScore sc = r.trainedScore().get();
    dev.tfkd.metrics.Evaluation ev = sc.evaluation();
    out.printf(
        Locale.ROOT, "%s: accuracy %.4f  NLL %.4f  ECE %.4f  CMI %.4f (train %.4f)%s%n", sc.data(), ev.accuracy(),
        ev.nll(), ev.ece(), ev.cmi(), r.trainCmi().getAsDouble(),
        sc.posteriorKnown()
            ? String.format(
                Locale.ROOT, "  BCPD error %.5f  KL(posterior||teacher) %.4f", ev.bcpdError(), ev.klToPosterior())
            : "");
  }

  private static void printTable(PrintWriter o, List<ModelScore> rows) {
    o.println("| model | test examples | accuracy | NLL | ECE | parameters |");
    o.println("| :-- | --: | --: | --: | --: | --: |");
    for (ModelScore s : rows) {
      o.printf(
          Locale.ROOT, "| %s | %d | %.4f | %.4f | %.4f | %s |%n",
          s.name(), s.evaluation().examples(), s.evaluation().accuracy(), s.evaluation().nll(), s.reliability().ece(),
          s.parameters() < 0 ? "-" : Long.toString(s.parameters()));
    }
  }
}
