package dev.tfkd.cli;

import dev.tfkd.experiments.Json;
import dev.tfkd.metrics.Evaluation;

/** An {@link Evaluation} as the JSON written beside an export. */
final class EvaluationJson {
  private EvaluationJson() {}

  static String of(Evaluation e, String data, double trainCmi, String objective, long seed) {
    Json j = new Json().beginObject();
    j.field("data", data).field("objective", objective).field("seed", seed);
    j.field("examples", e.examples()).field("accuracy", e.accuracy()).field("nll", e.nll()).field("ece", e.ece());
    j.field("cmi", e.cmi()).field("trainCmi", trainCmi);
    j.field("klToPosterior", e.klToPosterior()).field("bcpdError", e.bcpdError());
    j.name("perClassAccuracy").beginArray();
    for (double d : e.perClassAccuracy()) {
      j.value(d);
    }
    return j.endArray().endObject().toString() + "\n";
  }
}
