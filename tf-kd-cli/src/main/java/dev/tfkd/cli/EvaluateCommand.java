package dev.tfkd.cli;

import dev.tfkd.data.Dataset;
import dev.tfkd.io.Json;
import dev.tfkd.export.Predictor;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfkd evaluate}: the evaluation metrics of any compatible SavedModel on a dataset. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate a SavedModel on a labelled dataset.",
      "Works with tf-kd's exports and any SavedModel with one float input and a logits or probabilities output; prints every figure tf-kd's metrics compute (accuracy, NLL, and the distance to the true posterior where the data knows it)."
    },
    footer = {"", "Examples:", "  tfkd evaluate --model savedmodels/demo/teacher --data gmm", "  tfkd evaluate --model savedmodels/demo/teacher/1 --data gmm --json"})
final class EvaluateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ModelOptions model;

  @Mixin InputData input;

  @Option(names = "--json", description = "Print the figures as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Evaluation ev;
    String output;
    java.util.List<String> unsafe;
    Dataset d;
    try (Predictor p = model.load(spec.commandLine().getErr(), "evaluate")) {
      unsafe = p.unsafeOps().stream().map(dev.tfkd.export.GraphSafety.Finding::describe).toList();
      d = model.allowNonFinite ? labelled(input.loadExamples(p.exampleSize(), true), p.numClasses()) : input.load();
      PredictCommand.check(p, dev.tfkd.data.Examples.of(d));
      if (p.numClasses() != d.numClasses()) {
        throw new IllegalArgumentException(
            "the model predicts " + p.numClasses() + " classes; " + d.name() + " has " + d.numClasses());
      }
      ev = Metrics.evaluate(p.logits(d.features(), d.size()), d);
      // Decided (and confirmed by the values) only once the model has run.
      output = p.outputDecision();
    }
    // Every component of the evaluation record, so figures added to it appear here without changes.
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("model", model.model.toString());
    figures.put("data", d.name());
    figures.put("output", output);
    if (!unsafe.isEmpty()) {
      figures.put("unsafe_ops", unsafe);
    }
    figures.putAll(Json.recordToMap(ev));
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      o.print(Json.write(figures));
    } else {
      figures.forEach((k, v) -> o.println(k + ": " + format(v)));
    }
    o.flush();
    return Errors.OK;
  }

  /** Examples read with non-finite values allowed, as a dataset: they must be labelled. */
  private Dataset labelled(dev.tfkd.data.Examples e, int numClasses) {
    if (!e.labelled()) {
      throw new IllegalArgumentException(input.data + ": has no labels; evaluate needs labelled data (tfkd predict takes unlabelled)");
    }
    return new Dataset(e.name(), e.features(), e.labels(), e.exampleShape(), numClasses, null);
  }

  private static String format(Object v) {
    if (v instanceof Double x) {
      return String.format(Locale.ROOT, "%.6f", x);
    }
    if (v instanceof Float x) {
      return String.format(Locale.ROOT, "%.6f", x);
    }
    if (v instanceof double[] a) {
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < a.length; i++) {
        b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", a[i]));
      }
      return b.append(']').toString();
    }
    if (v != null && v.getClass().isArray() || v instanceof Record || v instanceof Map<?, ?>) {
      return Json.write(v).strip().replaceAll("\\s*\\n\\s*", " ");
    }
    return String.valueOf(v);
  }
}
