package dev.tfkd.training;

/** Thrown when a step's loss is NaN or infinite; names the epoch and step. */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * A divergence error.
   *
   * @param message what diverged and when
   */
  public TrainingDivergedException(String message) {
    super(message);
  }
}
