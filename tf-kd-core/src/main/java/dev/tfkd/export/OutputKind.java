package dev.tfkd.export;

/** Which values a classifier SavedModel's output holds, or {@link #AUTO} to find out. */
public enum OutputKind {
  /** Unnormalised log-probabilities (softmax gives the probabilities). */
  LOGITS,
  /** Probabilities (rows sum to 1); their logarithm, floored at {@link SavedModelClassifier#PROBABILITY_FLOOR}, serves as logits. */
  PROBABILITIES,
  /** Log-probabilities (rows whose log-sum-exp is 0); they serve as logits unchanged. */
  LOG_PROBABILITIES,
  /**
   * One probability per example ({@code [batch]} or {@code [batch, 1]}, a binary classifier's sigmoid): the
   * probability {@code p} of class 1, read as two classes with log-probabilities {@code [log(max(1 - p, floor)),
   * log(max(p, floor))]} ({@link SavedModelClassifier#PROBABILITY_FLOOR}).
   */
  BINARY_PROBABILITY,
  /**
   * Decide from the graph ({@link OutputEvidence#fromGraph}: a {@code Softmax} gives probabilities, a
   * {@code LogSoftmax} log-probabilities, a {@code Sigmoid} behind a one-value output ({@code [batch]} or
   * {@code [batch, 1]}) a binary probability, any other op logits), confirmed by the values of the first batch
   * ({@link OutputEvidence#fromValues}, {@link OutputEvidence#fromBinaryValues}); when the graph says nothing (the
   * chain ends at a function argument, or a sigmoid gives several columns) the values decide. When graph and values disagree the first call stops with an {@link IllegalArgumentException}
   * naming both: set the kind explicitly to settle it.
   */
  AUTO
}
