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
   * Decide from the graph ({@link OutputEvidence#fromGraph}: a {@code Softmax} gives probabilities, a
   * {@code LogSoftmax} log-probabilities, any other op logits), confirmed by the values of the first batch
   * ({@link OutputEvidence#fromValues}); when the graph says nothing (the chain ends at a function argument) the
   * values decide. When graph and values disagree the first call stops with an {@link IllegalArgumentException}
   * naming both: set the kind explicitly to settle it.
   */
  AUTO
}
