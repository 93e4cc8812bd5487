package dev.tfkd.training;

import java.util.Objects;

/**
 * One training run's settings.
 *
 * @param epochs passes over the training data, >= 1
 * @param batchSize examples per step, >= 1
 * @param optimizer how weights are updated
 * @param seed the one seed that fixes initial weights and the data order
 * @param threads TensorFlow intra-op threads; 0 lets TensorFlow choose; at most {@link SessionSettings#MAX_THREADS}
 */
public record TrainConfig(int epochs, int batchSize, OptimizerConfig optimizer, long seed, int threads) {
  public TrainConfig {
    Objects.requireNonNull(optimizer, "optimizer");
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    SessionSettings.checkThreads("threads", threads);
  }

  public TrainConfig withSeed(long newSeed) {
    return new TrainConfig(epochs, batchSize, optimizer, newSeed, threads);
  }

  public TrainConfig withEpochs(int newEpochs) {
    return new TrainConfig(newEpochs, batchSize, optimizer, seed, threads);
  }
}
