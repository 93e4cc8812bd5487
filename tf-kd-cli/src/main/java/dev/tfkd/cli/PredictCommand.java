package dev.tfkd.cli;

import dev.tfkd.data.Dataset;
import dev.tfkd.export.Predictor;
import dev.tfkd.io.AtomicFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfkd predict}: a SavedModel's predictions for a dataset, as CSV or JSON lines. */
@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    description = {
      "Print a SavedModel's predictions for a dataset as CSV or JSON lines.",
      "Works with tf-kd's exports and any SavedModel with one float input and a logits or probabilities",
      "output; one line per example: index, predicted class, label, class probabilities.",
      "The graph is scanned first and refused if it holds file-system or other non-computational ops."
    },
    footer = {
      "",
      "Formats:",
      "  csv    index,class,label,p0,...,p{K-1} with a header line",
      "  jsonl  {\"index\":0,\"class\":3,\"label\":3,\"probabilities\":[...],\"logits\":[...]} per line",
      "",
      "Examples:",
      "  tfkd predict --model savedmodels/demo/teacher --data gmm",
      "  tfkd predict --model savedmodels/demo/teacher/1 --data gmm --format jsonl --out preds.jsonl"
    })
final class PredictCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ModelOptions model;

  @Mixin InputData input;

  @Option(names = "--format", defaultValue = "csv", description = "Output format: csv or jsonl (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--out", paramLabel = "FILE", description = "Write to FILE (atomically) instead of standard output.")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("csv") && !format.equals("jsonl")) {
      throw new IllegalArgumentException("--format must be csv or jsonl, got '" + format + "'");
    }
    Dataset d = input.load();
    StringWriter buffer = new StringWriter();
    PrintWriter o = out == null ? spec.commandLine().getOut() : new PrintWriter(buffer);
    try (Predictor p = model.load(spec.commandLine().getErr(), "predict")) {
      check(p, d);
      int k = p.numClasses();
      if (format.equals("csv")) {
        StringBuilder h = new StringBuilder("index,class,label");
        for (int c = 0; c < k; c++) {
          h.append(",p").append(c);
        }
        o.println(h);
      }
      int e = d.exampleSize();
      int chunk = Math.max(1, Math.min(d.size(), 4096));
      for (int start = 0; start < d.size(); start += chunk) {
        int n = Math.min(chunk, d.size() - start);
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
          rows[i] = Arrays.copyOfRange(d.features(), (start + i) * e, (start + i + 1) * e);
        }
        Predictor.Prediction pr = p.predict(rows);
        for (int i = 0; i < n; i++) {
          o.println(line(start + i, pr.classes()[i], d.labels()[start + i], pr.probabilities()[i], pr.logits()[i]));
        }
      }
    }
    o.flush();
    if (out != null) {
      AtomicFiles.write(out, buffer.toString().getBytes(StandardCharsets.UTF_8));
      spec.commandLine().getErr().println("tfkd predict: wrote " + d.size() + " predictions to " + out);
    }
    return Errors.OK;
  }

  private String line(int index, int cls, int label, float[] probs, float[] logits) {
    StringBuilder b = new StringBuilder();
    if (format.equals("csv")) {
      b.append(index).append(',').append(cls).append(',').append(label);
      for (float v : probs) {
        b.append(',').append(num(v));
      }
    } else {
      b.append("{\"index\":").append(index).append(",\"class\":").append(cls).append(",\"label\":").append(label);
      b.append(",\"probabilities\":").append(array(probs)).append(",\"logits\":").append(array(logits)).append('}');
    }
    return b.toString();
  }

  private static String array(float[] v) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : ",").append(Float.isFinite(v[i]) ? num(v[i]) : "null");
    }
    return b.append(']').toString();
  }

  private static String num(float v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }

  /** Fails with one line when the data does not fit the model. */
  static void check(Predictor p, Dataset d) {
    if (d.exampleSize() != p.exampleSize()) {
      throw new IllegalArgumentException(
          d.name() + " has examples of shape " + Arrays.toString(d.exampleShape()) + "; the model " + p.directory()
              + " takes " + Arrays.toString(p.exampleShape()));
    }
  }
}
