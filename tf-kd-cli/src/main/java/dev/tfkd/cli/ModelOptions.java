package dev.tfkd.cli;

import dev.tfkd.export.GraphSafety;
import dev.tfkd.export.OutputKind;
import dev.tfkd.export.Predictor;
import dev.tfkd.export.SavedModelClassifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by commands that load a SavedModel to run it ({@code predict}, {@code evaluate}). */
final class ModelOptions {
  @Option(names = "--model", required = true, paramLabel = "DIR", description = "SavedModel version directory, or model directory (latest version).")
  Path model;

  // The --teacher-* names are distill's; accepted here so one set of flags works on every command that loads a model.
  @Option(names = {"--signature", "--teacher-signature"}, defaultValue = "serving_default", description = "Signature to call (default: ${DEFAULT-VALUE}).")
  String signature;

  @Option(names = {"--input", "--teacher-input"}, paramLabel = "NAME", description = "Signature input fed with the data (default: its only input).")
  String input;

  @Option(names = {"--output", "--teacher-output"}, paramLabel = "NAME", description = "Signature output holding logits or probabilities (default: logits, else probabilities, else the only output).")
  String output;

  @Option(names = {"--output-kind", "--teacher-output-kind"}, defaultValue = "AUTO", description = "What --output holds: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}: the op computing it in the graph (Softmax, LogSoftmax, other), confirmed by the first batch's values).")
  OutputKind kind;

  @Option(names = "--allow-unsafe-ops", description = "Load the model even if its graph holds ops outside the allow-list of pure computation (file system, I/O). Loading runs the graph: only for models you trust.")
  boolean allowUnsafeOps;

  @Option(names = "--batch-size", defaultValue = "256", description = "Examples per TensorFlow call (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--threads", defaultValue = "0", description = "TensorFlow intra-op threads, 0 to 256; 0 = TensorFlow's default (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--allow-non-finite", description = "Predict for inputs holding NaN or infinities instead of refusing them (by default the first such value is named by row and column).")
  boolean allowNonFinite;

  Predictor load(PrintWriter err, String command) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
    }
    Predictor p =
        Predictor.load(
            model, new SavedModelClassifier.Binding(signature, input, output, kind, allowUnsafeOps, batchSize, threads),
            allowNonFinite);
    warnUnsafeOps(err, command, "model", p.unsafeOps());
    return p;
  }

  /**
   * One warning line on {@code err} naming the ops (and, abbreviated, the nodes) outside the allow-list that
   * {@code --allow-unsafe-ops} let through; nothing when there were none.
   */
  static void warnUnsafeOps(PrintWriter err, String command, String what, java.util.List<GraphSafety.Finding> findings) {
    if (!findings.isEmpty()) {
      err.println(
          "tfkd " + command + ": warning: --allow-unsafe-ops let the " + what + "'s graph run " + findings.size()
              + " node(s) outside the allow-list: " + GraphSafety.summarize(findings));
      err.flush();
    }
  }
}
