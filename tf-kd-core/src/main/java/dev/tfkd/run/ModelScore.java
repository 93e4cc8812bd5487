package dev.tfkd.run;

import dev.tfkd.data.Dataset;
import dev.tfkd.metrics.Calibration;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;

/**
 * The final figures of one model on a run's test data.
 *
 * @param name the model's role, e.g. {@code teacher} or {@code student}
 * @param data the test data's name
 * @param posteriorKnown whether the test data carries its Bayes posterior (then the BCPD error is meaningful)
 * @param evaluation accuracy, NLL, ECE, CMI and the rest
 * @param reliability the reliability diagram (15 confidence bins)
 * @param perClass accuracy per class (NaN: no test examples of the class)
 * @param parameters trainable parameters, or -1 when unknown (e.g. a SavedModel teacher)
 */
public record ModelScore(
    String name,
    String data,
    boolean posteriorKnown,
    Evaluation evaluation,
    Calibration.Reliability reliability,
    double[] perClass,
    long parameters) {
  /**
   * Scores {@code logits} ({@code test.size() x K}) against {@code test}'s labels.
   *
   * @param name the model's role
   * @param logits the model's logits, row-major {@code test.size() x K}
   * @param test the labelled test data
   * @param parameters trainable parameters, or -1 when unknown
   * @return the figures
   */
  public static ModelScore of(String name, float[] logits, Dataset test, long parameters) {
    return new ModelScore(
        name, test.name(), test.hasPosterior(), Metrics.evaluate(logits, test),
        Calibration.reliability(logits, test, 15), Calibration.perClassAccuracy(logits, test), parameters);
  }

  /**
   * The test accuracy.
   *
   * @return the share of test examples classified correctly
   */
  public double accuracy() {
    return evaluation.accuracy();
  }

  RunReport.Row row() {
    return new RunReport.Row(
        name, evaluation.examples(), evaluation.accuracy(), evaluation.nll(), reliability.ece(), parameters);
  }
}
