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
 */
public record Evaluation(int examples, double accuracy, double nll, double klToPosterior, double bcpdError) {}
