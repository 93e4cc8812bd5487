package dev.tfkd.metrics;

/**
 * A model's figures on one labelled dataset.
 *
 * @param examples how many examples were scored
 * @param accuracy fraction whose arg-max logit is the label
 * @param nll mean negative log-likelihood of the label, in nats
 * @param klToPosterior mean KL(true posterior || model), in nats; NaN when the posterior is unknown
 * @param bcpdError mean squared error between the model's probabilities and the true posterior (summed over
 *     classes, averaged over examples); NaN when the posterior is unknown
 * @param perClassAccuracy accuracy on the examples of each class (length K); NaN for a class with no examples
 * @param ece expected calibration error with {@value Metrics#ECE_BINS} equal-width confidence bins: {@code
 *     sum_b (n_b / N) |accuracy_b - mean confidence_b|}, confidence the top softmax probability
 * @param cmi empirical conditional mutual information {@code (1/N) sum_i KL(P_i || Q_{y_i})} at temperature 1,
 *     in nats, with the centroids {@code Q} either given or computed from these predictions (see {@link Metrics})
 */
public record Evaluation(
    int examples,
    double accuracy,
    double nll,
    double klToPosterior,
    double bcpdError,
    double[] perClassAccuracy,
    double ece,
    double cmi) {

  /** Copies the per-class accuracies. */
  public Evaluation {
    perClassAccuracy = perClassAccuracy.clone();
  }

  /** Figures without per-class accuracy, calibration error or CMI (those are empty and NaN). */
  public Evaluation(int examples, double accuracy, double nll, double klToPosterior, double bcpdError) {
    this(examples, accuracy, nll, klToPosterior, bcpdError, new double[0], Double.NaN, Double.NaN);
  }

  /**
   * The accuracy of each class (a copy).
   *
   * @return per-class accuracy, empty when not computed
   */
  @Override
  public double[] perClassAccuracy() {
    return perClassAccuracy.clone();
  }

  /** Equal when every figure is equal (NaN equals NaN, as for record components of type double). */
  @Override
  public boolean equals(Object o) {
    return o instanceof Evaluation e
        && examples == e.examples
        && Double.compare(accuracy, e.accuracy) == 0
        && Double.compare(nll, e.nll) == 0
        && Double.compare(klToPosterior, e.klToPosterior) == 0
        && Double.compare(bcpdError, e.bcpdError) == 0
        && java.util.Arrays.equals(perClassAccuracy, e.perClassAccuracy)
        && Double.compare(ece, e.ece) == 0
        && Double.compare(cmi, e.cmi) == 0;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(examples, accuracy, nll, klToPosterior, bcpdError, ece, cmi)
        + 31 * java.util.Arrays.hashCode(perClassAccuracy);
  }

  @Override
  public String toString() {
    return "Evaluation[examples=" + examples + ", accuracy=" + accuracy + ", nll=" + nll + ", klToPosterior="
        + klToPosterior + ", bcpdError=" + bcpdError + ", perClassAccuracy="
        + java.util.Arrays.toString(perClassAccuracy) + ", ece=" + ece + ", cmi=" + cmi + "]";
  }

  /** Accuracy on the examples of class {@code c}; NaN if there are none. */
  public double classAccuracy(int c) {
    return perClassAccuracy[c];
  }
}
