package dev.tfkd.cluster;

/**
 * A cluster run stopped because a task failed in a way the run cannot recover from by itself (a parameter server,
 * whose variables are lost with it, or a worker that did not come back in time). The message says which task and
 * what to do; the run's latest checkpoint is intact, so the run can continue with {@code --resume}.
 */
public class ClusterFailureException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message which task failed and what to do
   * @param cause TensorFlow's error
   */
  public ClusterFailureException(String message, Throwable cause) {
    super(message, cause);
  }
}
