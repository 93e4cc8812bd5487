package dev.tfkd.training;

import dev.tfkd.data.Augmentation;
import java.util.Objects;

/**
 * One training run's settings.
 *
 * @param epochs passes over the training data, >= 1
 * @param batchSize examples per step, >= 1
 * @param optimizer how weights are updated
 * @param seed the one seed that fixes initial weights and the data order
 * @param threads TensorFlow intra-op threads; 0 lets TensorFlow choose; at most {@link SessionSettings#MAX_THREADS}
 * @param augmentation applied to every training batch before the model (and an online teacher) sees it, seeded
 *     from {@code seed} per epoch; {@link Augmentation#NONE} for none. Needs image examples {@code [H, W, C]}.
 */
public record TrainConfig(
    int epochs, int batchSize, OptimizerConfig optimizer, long seed, int threads, Augmentation augmentation) {
  public TrainConfig {
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(augmentation, "augmentation (Augmentation.NONE for none)");
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    SessionSettings.checkThreads("threads", threads);
  }

  /** Without augmentation. */
  public TrainConfig(int epochs, int batchSize, OptimizerConfig optimizer, long seed, int threads) {
    this(epochs, batchSize, optimizer, seed, threads, Augmentation.NONE);
  }

  public TrainConfig withSeed(long newSeed) {
    return new TrainConfig(epochs, batchSize, optimizer, newSeed, threads, augmentation);
  }

  public TrainConfig withEpochs(int newEpochs) {
    return new TrainConfig(newEpochs, batchSize, optimizer, seed, threads, augmentation);
  }

  public TrainConfig withAugmentation(Augmentation newAugmentation) {
    return new TrainConfig(epochs, batchSize, optimizer, seed, threads, newAugmentation);
  }
}
