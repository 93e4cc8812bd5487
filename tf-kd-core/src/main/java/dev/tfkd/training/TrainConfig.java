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
  /**
   * Validates the configuration; throws NullPointerException for a missing part and IllegalArgumentException for a
   * value out of range.
   */
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

  /**
   * This configuration with another seed.
   *
   * @param newSeed the seed
   * @return a copy
   */
  public TrainConfig withSeed(long newSeed) {
    return new TrainConfig(epochs, batchSize, optimizer, newSeed, threads, augmentation);
  }

  /**
   * This configuration with another epoch count.
   *
   * @param newEpochs the number of epochs
   * @return a copy
   */
  public TrainConfig withEpochs(int newEpochs) {
    return new TrainConfig(newEpochs, batchSize, optimizer, seed, threads, augmentation);
  }

  /**
   * This configuration with another augmentation.
   *
   * @param newAugmentation the augmentation ({@link Augmentation#NONE} for none)
   * @return a copy
   */
  public TrainConfig withAugmentation(Augmentation newAugmentation) {
    return new TrainConfig(epochs, batchSize, optimizer, seed, threads, newAugmentation);
  }
}
