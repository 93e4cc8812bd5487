package dev.tfkd.objectives;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import dev.tfkd.training.TrainingSetup;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The second phase of the MCMI schedule: fine-tune a trained (MLL) model with the {@link Mcmi} objective.
 *
 * <p>The paper's released code trains the teacher by MLL, computes the class centroids once by a full pass over
 * the training data, and then fine-tunes for 20 epochs with SGD (momentum 0.9, learning rate 0.05 with cosine
 * decay, weight decay 5e-4): {@link #paper(float)}. The optimizer starts fresh (no momentum carried over).
 *
 * @param lambda weight of the CMI term, {@code >= 0}
 * @param centroids when the centroids are computed ({@link CentroidPolicy#ONCE} is the paper's)
 * @param emaMomentum the EMA policy's momentum, in [0, 1)
 * @param epochs fine-tuning epochs, {@code >= 1}
 * @param optimizer the fine-tuning optimizer
 */
public record McmiFineTune(
    float lambda, CentroidPolicy centroids, float emaMomentum, int epochs, OptimizerConfig optimizer) {

  /** Default CMI weight. */
  public static final float DEFAULT_LAMBDA = 0.15f;
  /** The fine-tuning epochs of the MCMI paper. */
  public static final int PAPER_EPOCHS = 20;
  /** Default momentum of the centroids' moving average. */
  public static final float DEFAULT_EMA_MOMENTUM = 0.9f;

  /**
   * Validates the parameters; throws NullPointerException for a missing part and IllegalArgumentException for a
   * negative or infinite lambda.
   */
  public McmiFineTune {
    Objects.requireNonNull(centroids, "centroids");
    Objects.requireNonNull(optimizer, "optimizer");
    if (!(lambda >= 0) || Float.isInfinite(lambda)) {
      throw new IllegalArgumentException("lambda must be finite and >= 0, got " + lambda);
    }
    if (!(emaMomentum >= 0 && emaMomentum < 1)) {
      throw new IllegalArgumentException("EMA momentum must be in [0, 1), got " + emaMomentum);
    }
    if (epochs < 1) {
      throw new IllegalArgumentException("fine-tuning epochs must be >= 1, got " + epochs);
    }
  }

  /** The paper's schedule with {@code lambda}: centroids once, 20 epochs, SGD 0.9, lr 0.05 cosine, wd 5e-4. */
  public static McmiFineTune paper(float lambda) {
    return new McmiFineTune(
        lambda, CentroidPolicy.ONCE, DEFAULT_EMA_MOMENTUM, PAPER_EPOCHS, OptimizerConfig.sgdCosine(0.05f, 0.9f, 5e-4f));
  }

  /**
   * This fine-tune with another centroid policy.
   *
   * @param policy the centroid policy
   * @return a copy with {@code policy}
   */
  public McmiFineTune withCentroids(CentroidPolicy policy) {
    return new McmiFineTune(lambda, policy, emaMomentum, epochs, optimizer);
  }

  /** The same schedule with another base learning rate (the paper's is 0.05). */
  public McmiFineTune withLearningRate(float lr) {
    return new McmiFineTune(
        lambda, centroids, emaMomentum, epochs,
        new dev.tfkd.training.OptimizerConfig(
            optimizer.kind(), lr, optimizer.momentum(), optimizer.weightDecay(), optimizer.schedule()));
  }

  /**
   * This fine-tune with another epoch count.
   *
   * @param n the number of fine-tuning epochs
   * @return a copy with {@code n} epochs
   */
  public McmiFineTune withEpochs(int n) {
    return new McmiFineTune(lambda, centroids, emaMomentum, n, optimizer);
  }

  /**
   * Fine-tunes {@code start} on {@code train}.
   *
   * @param base batch size, seed and threads come from here (epochs and optimizer from this record)
   */
  public TrainedModel run(
      TrainedModel start, Dataset train, TrainConfig base, List<TrainingListener> listeners, Path workDir) {
    return run(start, train, base, listeners, setup -> new Trainer(trainConfig(base), listeners)
        .train(start.architecture(), train, setup.objective(), null, workDir, setup.setup()));
  }

  /**
   * Fine-tunes {@code start} on {@code train} with validation, checkpoints and resume as {@code options} say. On
   * resume the weights, the optimizer's slots and the centroids in use come from the latest checkpoint; the
   * starting centroids are computed from {@code start} again, exactly as the first time.
   */
  public TrainedModel run(
      TrainedModel start, Dataset train, TrainConfig base, List<TrainingListener> listeners, Trainer.RunOptions options) {
    return run(start, train, base, listeners, setup -> new Trainer(trainConfig(base), listeners)
        .train(start.architecture(), train, setup.objective(), null, options, setup.setup()));
  }

  /** The trainer settings of the fine-tuning phase: this record's epochs and optimizer, the seed after base's. */
  public TrainConfig trainConfig(TrainConfig base) {
    return new TrainConfig(epochs, base.batchSize(), optimizer, base.seed() + 1, base.threads(), base.augmentation());
  }

  private record Prepared(Mcmi objective, TrainingSetup setup) {}

  private TrainedModel run(
      TrainedModel start, Dataset train, TrainConfig base, List<TrainingListener> listeners,
      java.util.function.Function<Prepared, TrainedModel> trainer) {
    int k = start.architecture().numClasses();
    CentroidFeed feed = new CentroidFeed(centroids, emaMomentum, k);
    java.util.Map<String, float[]> values;
    // The starting centroids come from the trained model in inference mode (moving batch-norm statistics, no
    // dropout), as a full pass of the trained teacher gives them.
    try (InferenceModel m = start.load(Trainer.sessionConfig(base.threads()))) {
      values = m.variableValues();
      feed.startFrom(EmpiricalCmi.centroids(m.logits(train), train.labels(), k, 1));
    }
    Mcmi objective = new Mcmi(lambda, feed);
    return trainer.apply(new Prepared(objective, TrainingSetup.fineTune(values, List.of(feed))));
  }
}
