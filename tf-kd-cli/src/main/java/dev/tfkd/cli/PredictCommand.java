package dev.tfkd.cli;

import dev.tfkd.data.Examples;
import dev.tfkd.export.Predictor;
import dev.tfkd.io.AtomicFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
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
      "Works with tf-kd's exports and any SavedModel with one float input and a logits or probabilities output; one line per example: index, predicted class and its name, label (empty when the data has none), class probabilities.",
      "The probabilities are the model's own (its probabilities output, or the output read when it holds probabilities); only a model with logits alone has them computed as their softmax.",
      "Numbers are written in full precision: each float as the shortest decimal that reads back to the same float32.",
      "The data may be unlabelled: a CSV file whose rows hold exactly the model's input values, or TFRecord files of tf.Examples with only the feature x (as TensorFlow Serving's Classify API takes them).",
      "Inputs holding NaN or infinities are refused, naming the row and column, unless --allow-non-finite.",
      "The graph is scanned first and refused if it holds file-system or other non-computational ops."
    },
    footer = {
      "",
      "Formats:",
      "  csv    index,class,label,name,p0,...,p{K-1} with a header line",
      "  jsonl  {\"index\":0,\"class\":3,\"name\":\"cat\",\"label\":3,",
      "          \"probabilities\":[...],\"logits\":[...]} per line (label null for",
      "         unlabelled data; a non-finite value is null)",
      "",
      "Examples:",
      "  tfkd predict --model savedmodels/demo/teacher --data gmm",
      "  tfkd predict --model savedmodels/demo/teacher/1 --data gmm --format jsonl --out preds.jsonl",
      "  tfkd predict --model runs/r/export/student --data unlabelled.csv --format jsonl"
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
    StringWriter buffer = new StringWriter();
    PrintWriter o = out == null ? spec.commandLine().getOut() : new PrintWriter(buffer);
    int size;
    try (Predictor p = model.load(spec.commandLine().getErr(), "predict")) {
      Examples d = input.loadExamples(p.exampleSize(), model.allowNonFinite);
      check(p, d);
      size = d.size();
      int k = p.numClasses();
      List<String> names = p.classNames();
      if (format.equals("csv")) {
        StringBuilder h = new StringBuilder("index,class,label,name");
        for (int c = 0; c < k; c++) {
          h.append(",p").append(c);
        }
        o.println(h);
      }
      int e = d.exampleSize();
      int chunk = Math.max(1, Math.min(d.size(), 4096));
      for (int start = 0; start < d.size(); start += chunk) {
        int n = Math.min(chunk, d.size() - start);
        float[] rows = Arrays.copyOfRange(d.features(), start * e, (start + n) * e);
        Predictor.Prediction pr = p.predict(rows, n);
        for (int i = 0; i < n; i++) {
          int cls = pr.classes()[i];
          Integer label = d.labelled() ? d.labels()[start + i] : null;
          o.println(line(start + i, cls, names.get(cls), label, pr.probabilities()[i], pr.logits()[i]));
        }
      }
    }
    o.flush();
    if (out != null) {
      AtomicFiles.write(out, buffer.toString().getBytes(StandardCharsets.UTF_8));
      spec.commandLine().getErr().println("tfkd predict: wrote " + size + " predictions to " + out);
    }
    return Errors.OK;
  }

  private String line(int index, int cls, String name, Integer label, float[] probs, float[] logits) {
    StringBuilder b = new StringBuilder();
    if (format.equals("csv")) {
      b.append(index).append(',').append(cls).append(',').append(label == null ? "" : label).append(',').append(csv(name));
      for (float v : probs) {
        b.append(',').append(num(v));
      }
    } else {
      b.append("{\"index\":").append(index).append(",\"class\":").append(cls).append(",\"name\":")
          .append(dev.tfkd.io.Json.quoted(name)).append(",\"label\":").append(label == null ? "null" : label);
      b.append(",\"probabilities\":").append(array(probs)).append(",\"logits\":").append(array(logits)).append('}');
    }
    return b.toString();
  }

  /** A CSV field: quoted when it holds a separator, a quote or a line break. */
  private static String csv(String s) {
    return s.matches("[^,\"\r\n]*") ? s : "\"" + s.replace("\"", "\"\"") + "\"";
  }

  private static String array(float[] v) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      b.append(i == 0 ? "" : ",").append(Float.isFinite(v[i]) ? num(v[i]) : "null");
    }
    return b.append(']').toString();
  }

  /**
   * The shortest decimal that reads back as the same float32 ({@link Float#toString}): full precision, and a valid
   * JSON number for every finite value ({@code 1.0E-5} included).
   */
  static String num(float v) {
    return Float.toString(v);
  }

  /** Fails with one line when the data does not fit the model. */
  static void check(Predictor p, Examples d) {
    if (d.exampleSize() != p.exampleSize()) {
      throw new IllegalArgumentException(
          d.name() + " has examples of shape " + Arrays.toString(d.exampleShape()) + "; the model " + p.directory()
              + " takes " + Arrays.toString(p.exampleShape()));
    }
  }
}
