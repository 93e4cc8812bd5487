package dev.tfkd.training;

/**
 * How weights are updated.
 *
 * @param kind Adam or SGD with momentum
 * @param learningRate the base learning rate, positive
 * @param momentum SGD momentum in [0, 1) (ignored by Adam)
 * @param weightDecay L2 coefficient added to every gradient ({@code g + wd * w}, as PyTorch's SGD does), >= 0
 * @param schedule constant, or cosine decay from the base rate to 0 over the run
 */
public record OptimizerConfig(
    Kind kind, float learningRate, float momentum, float weightDecay, Schedule schedule) {

  /** The optimizer algorithm. */
  public enum Kind {
    /** Adam. */
    ADAM,
    /** Stochastic gradient descent with momentum. */
    SGD
  }

  /** How the learning rate changes over the run. */
  public enum Schedule {
    /** A constant learning rate. */
    CONSTANT,
    /** Cosine decay to zero over the run. */
    COSINE
  }

  /**
   * Validates the settings; throws IllegalArgumentException for a non-positive or infinite learning rate or a momentum
   * outside [0, 1).
   */
  public OptimizerConfig {
    if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
      throw new IllegalArgumentException("learning rate must be positive and finite, got " + learningRate);
    }
    if (!(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
    }
    if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("weight decay must be finite and >= 0, got " + weightDecay);
    }
  }

  /** Adam with a constant rate and no weight decay (betas 0.9, 0.999, epsilon 1e-8). */
  public static OptimizerConfig adam(float learningRate) {
    return new OptimizerConfig(Kind.ADAM, learningRate, 0f, 0f, Schedule.CONSTANT);
  }

  /** SGD with momentum, weight decay and cosine decay, as the MCMI paper's fine-tuning uses. */
  public static OptimizerConfig sgdCosine(float learningRate, float momentum, float weightDecay) {
    return new OptimizerConfig(Kind.SGD, learningRate, momentum, weightDecay, Schedule.COSINE);
  }

  /** The learning rate at {@code step} of {@code totalSteps}. */
  public float rateAt(long step, long totalSteps) {
    return switch (schedule) {
      case CONSTANT -> learningRate;
      case COSINE -> (float) (0.5 * learningRate * (1 + Math.cos(Math.PI * Math.min(1.0, (double) step / totalSteps))));
    };
  }
}
