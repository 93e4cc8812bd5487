package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.proto.ConfigProto;

/**
 * Trains one model on one dataset with one objective: builds the training graph (the architecture in training
 * mode, the loss, gradients for the model's own trainable variables only, and the optimizer), runs the epochs
 * over seeded shuffles of the data, and saves the trained variables as a checkpoint.
 *
 * <p>When the objective needs a teacher, the teacher's logits for every training example are passed in (computed
 * beforehand by the frozen teacher in its own graph), so the teacher's variables are never in this graph at all.
 * For self-distillation ({@link Objective#usesOwnPredictions()}) the model's own logits from the previous epoch
 * take the teacher's place (and are kept in checkpoints). A NaN or infinite loss stops the run with a
 * {@link TrainingDivergedException} naming the step.
 *
 * <p>With {@link RunOptions} a run evaluates validation data after every epoch, checkpoints its whole state
 * (weights, optimizer slots, epoch, step, history) every epoch, and can resume from its latest checkpoint. The
 * data order of epoch {@code e} is a pure function of the seed and {@code e}, so a resumed run takes exactly the
 * steps the uninterrupted run would have taken; with one thread the results are bit-identical. (Stateful random
 * ops inside a model, such as dropout masks, restart their sequence on resume.)
 *
 * <p>The work is split by job: {@link TrainingGraph} assembles the graph, {@link EpochLoop} runs the epochs,
 * {@link CheckpointCodec} converts the state to and from {@code checkpoint.proto}, {@link BatchFeeder} assembles
 * (and augments) batches, and {@code dev.tfkd.metrics.EmpiricalCmi.Accumulator} measures the training CMI. This
 * class checks a run's inputs and ties them together.
 */
public final class Trainer {
  private final TrainConfig config;
  private final List<TrainingListener> listeners;
  private final ConfigProto session;
  private final int prefetch;
  private final Replication replication;

  /**
   * A trainer.
   *
   * @param config what to train and how
   * @param listeners called around every step and epoch, in order
   */
  public Trainer(TrainConfig config, List<TrainingListener> listeners) {
    this(config, listeners, null);
  }

  /**
   * @param session the training session's options (threads, device); {@code null}: {@link
   *     #sessionConfig(int) sessionConfig(config.threads())}
   */
  public Trainer(TrainConfig config, List<TrainingListener> listeners, ConfigProto session) {
    this(config, listeners, session, BatchFeeder.DEFAULT_PREFETCH);
  }

  /** With {@code prefetch} batches prepared ahead (0: each batch is assembled on the training thread). */
  Trainer(TrainConfig config, List<TrainingListener> listeners, ConfigProto session, int prefetch) {
    this(config, listeners, session, prefetch, Replication.NONE);
  }

  private Trainer(
      TrainConfig config, List<TrainingListener> listeners, ConfigProto session, int prefetch, Replication replication) {
    this.config = Objects.requireNonNull(config, "config");
    this.listeners = List.copyOf(listeners);
    this.session = session == null ? sessionConfig(config.threads()) : session;
    this.prefetch = prefetch;
    this.replication = Objects.requireNonNull(replication, "replication");
  }

  /**
   * This trainer with its training step replicated as {@code replication} says: over several devices of this
   * process, or over a cluster's workers (then a worker that fails is waited for and the run continues from its
   * latest checkpoint, and a parameter server that fails stops the run with a {@link dev.tfkd.cluster.ClusterFailureException}).
   *
   * @param replication where the replicas run; {@link Replication#NONE} for one device
   * @return a new trainer
   */
  public Trainer replicated(Replication replication) {
    return new Trainer(config, listeners, session, prefetch, replication);
  }

  /**
   * Session options for {@code threads} intra-op threads (0: TensorFlow's default): {@link
   * SessionSettings#ofThreads(int)}, the one place session options are built.
   */
  public static ConfigProto sessionConfig(int threads) {
    return SessionSettings.ofThreads(threads).toConfigProto();
  }

  /**
   * What a run does besides training: validation after each epoch, checkpoints, resume.
   *
   * @param validation data scored after every epoch (in inference mode, in the training session), or {@code null}
   * @param checkpoints where checkpoints go
   * @param everyEpoch checkpoint after every epoch; otherwise only at the end of the run
   * @param resume continue from the latest checkpoint in {@code checkpoints} instead of starting afresh
   */
  public record RunOptions(Dataset validation, Checkpoints checkpoints, boolean everyEpoch, boolean resume) {
    /** Validates the options; throws NullPointerException without a checkpoint store. */
    public RunOptions {
      Objects.requireNonNull(checkpoints, "checkpoints");
    }
  }

  /**
   * Trains {@code architecture} on {@code train}.
   *
   * @param teacherLogits {@code train.size() x K} teacher logits aligned with {@code train}, or {@code null} if
   *     the objective needs none
   * @param workDir where the checkpoint is written (must exist; owned by the caller)
   */
  public TrainedModel train(
      Architecture architecture, Dataset train, Objective objective, float[] teacherLogits, Path workDir) {
    return train(architecture, train, objective, teacherLogits, workDir, TrainingSetup.NONE);
  }

  /**
   * Trains {@code architecture} on {@code train}, starting from {@code setup}'s initial values if it has any
   * (fine-tuning) and running its hooks.
   */
  public TrainedModel train(
      Architecture architecture,
      Dataset train,
      Objective objective,
      float[] teacherLogits,
      Path workDir,
      TrainingSetup setup) {
    Checkpoints cp = new Checkpoints(workDir.resolve(architecture.name() + "-" + Long.toHexString(System.nanoTime())));
    return train(architecture, train, objective, teacherLogits, new RunOptions(null, cp, false, false), setup);
  }

  /**
   * Trains {@code architecture} on {@code train} with the frozen {@code teacher} running online: its forward pass
   * is part of the training graph and sees every batch exactly as the student does (augmented, if the input is).
   */
  public TrainedModel trainOnline(
      Architecture architecture, Dataset train, Objective objective, FrozenTeacher teacher, Path workDir) {
    Checkpoints cp = new Checkpoints(workDir.resolve(architecture.name() + "-" + Long.toHexString(System.nanoTime())));
    return trainOnline(architecture, train, objective, teacher, new RunOptions(null, cp, false, false));
  }

  /**
   * Trains with the frozen {@code teacher} online, with validation, checkpoints and resume as {@code options} say.
   * With {@link TrainConfig#augmentation()} the teacher sees each augmented batch, exactly as the student does.
   */
  public TrainedModel trainOnline(
      Architecture architecture, Dataset train, Objective objective, FrozenTeacher teacher, RunOptions options) {
    Objects.requireNonNull(teacher, "teacher");
    if (!objective.needsTeacher()) {
      throw new IllegalArgumentException(objective.describe() + " reads no teacher");
    }
    checkCompatible(teacher.architecture(), train);
    return train(architecture, train, objective, null, teacher, options, TrainingSetup.NONE);
  }

  /**
   * Trains with several frozen teachers online, all built into the training graph: their logits reach the objective
   * side by side ({@code [batch, M * K]}, as {@link MultiTeacherDistillation} reads them) and their feature points
   * in {@link FeatureInputs#teachers()}, in order. {@code objective.teachers()} must equal their number. Otherwise
   * as {@link #trainOnline(Architecture, Dataset, Objective, FrozenTeacher, RunOptions)}.
   */
  public TrainedModel trainOnline(
      Architecture architecture, Dataset train, Objective objective, List<FrozenTeacher> teachers, RunOptions options) {
    if (teachers.isEmpty()) {
      throw new IllegalArgumentException("online training needs at least one teacher");
    }
    if (!objective.needsTeacher()) {
      throw new IllegalArgumentException(objective.describe() + " reads no teacher");
    }
    for (FrozenTeacher t : teachers) {
      checkCompatible(Objects.requireNonNull(t, "teacher").architecture(), train);
    }
    return trainWith(architecture, train, objective, new TeacherFeed(null, teachers, null), options, TrainingSetup.NONE);
  }

  /**
   * Trains with a teacher outside the graph running online: {@code teacher} is asked for the logits of every batch,
   * after augmentation, on the batch-preparation thread (overlapping with the student's previous step), so it sees
   * each batch exactly as the student does. Validation, checkpoints and resume as {@code options} say; with one
   * training thread and a deterministic teacher a resumed run repeats the uninterrupted one exactly.
   */
  public TrainedModel trainOnline(
      Architecture architecture, Dataset train, Objective objective, BatchLogits teacher, RunOptions options) {
    Objects.requireNonNull(teacher, "teacher");
    if (!objective.needsTeacher()) {
      throw new IllegalArgumentException(objective.describe() + " reads no teacher");
    }
    return trainWith(architecture, train, objective, new TeacherFeed(null, List.of(), teacher), options, TrainingSetup.NONE);
  }

  /** Trains with validation, checkpoints and resume as {@code options} say, and no hooks. */
  public TrainedModel train(
      Architecture architecture, Dataset train, Objective objective, float[] teacherLogits, RunOptions options) {
    return train(architecture, train, objective, teacherLogits, options, TrainingSetup.NONE);
  }

  /**
   * Trains {@code architecture} on {@code train} with validation, checkpoints and resume as {@code options} say.
   *
   * @param teacherLogits {@code train.size() x K} teacher logits aligned with {@code train}, or {@code null} if
   *     the objective needs none
   * @throws IllegalArgumentException for incompatible data, or a resume without a matching checkpoint
   * @throws TrainingDivergedException when a loss is not finite; the latest checkpoint is left as it was
   */
  public TrainedModel train(
      Architecture architecture,
      Dataset train,
      Objective objective,
      float[] teacherLogits,
      RunOptions options,
      TrainingSetup setup) {
    return train(architecture, train, objective, teacherLogits, null, options, setup);
  }

  /**
   * Trains {@code architecture} on data in memory with the teacher's logits in {@code teacherLogits}, e.g. a {@link
   * TeacherLogitCache} file mapped from disk because the logits of the whole training set do not fit in memory;
   * each batch reads its rows. Otherwise as {@link #train(Architecture, Dataset, Objective, float[], RunOptions)}.
   *
   * @param teacherLogits {@code train.size() x K} logits aligned with {@code train}
   */
  public TrainedModel trainFromTable(
      Architecture architecture, Dataset train, Objective objective, LogitTable teacherLogits, RunOptions options) {
    Objects.requireNonNull(teacherLogits, "teacherLogits");
    return trainWith(
        architecture, train, objective, new TeacherFeed(null, null, null, teacherLogits, null), options,
        TrainingSetup.NONE);
  }

  /**
   * Trains {@code architecture} on streamed data ({@link TrainStream}): memory stays bounded by the shuffle buffer
   * and the batches read ahead, whatever the size of the data. Every checkpoint holds the stream's position, so a
   * resumed run draws exactly the batches the uninterrupted run would have drawn (with one training thread the
   * results are bit-identical). Augmentation, training hooks and self-distillation are not supported on streams.
   *
   * @param teacherLogits the teacher's logits by global example index ({@code train.shards().size() x K}, usually
   *     a {@link TeacherLogitCache} file filled in one streaming pass), or {@code null} if the objective needs none
   * @throws IllegalArgumentException for incompatible data, missing logits, or a resume without a matching checkpoint
   */
  public TrainedModel trainStreamed(
      Architecture architecture, TrainStream train, Objective objective, LogitTable teacherLogits, RunOptions options) {
    Objects.requireNonNull(train, "train");
    return trainWith(
        architecture, train.shards().sample(), objective, new TeacherFeed(null, null, null, teacherLogits, train),
        options, TrainingSetup.NONE);
  }

  /**
   * Trains on streamed data with its final checkpoint in a new folder under {@code workDir} (owned by the caller),
   * without validation or resume.
   */
  public TrainedModel trainStreamed(
      Architecture architecture, TrainStream train, Objective objective, LogitTable teacherLogits, Path workDir) {
    Checkpoints cp = new Checkpoints(workDir.resolve(architecture.name() + "-" + Long.toHexString(System.nanoTime())));
    return trainStreamed(architecture, train, objective, teacherLogits, new RunOptions(null, cp, false, false));
  }

  /**
   * Where a step's teacher logits come from: at most one of precomputed logits aligned with the training data (in
   * an array or a table), a frozen teacher built into the graph, or a teacher asked per batch; none when the
   * objective reads no teacher. With {@code stream}, the training data is streamed and the dataset passed along
   * is its sample.
   */
  record TeacherFeed(
      float[] logits, List<FrozenTeacher> inGraph, BatchLogits perBatch, LogitTable table, TrainStream stream) {
    TeacherFeed {
      inGraph = inGraph == null ? List.of() : List.copyOf(inGraph);
    }

    TeacherFeed(float[] logits, List<FrozenTeacher> inGraph, BatchLogits perBatch) {
      this(logits, inGraph, perBatch, null, null);
    }

    /** Whether the teacher sees each batch as it is fed (so augmentation reaches it). */
    boolean online() {
      return !inGraph.isEmpty() || perBatch != null;
    }
  }

  /** Trains with cached logits, an in-graph online teacher (then {@code teacherLogits} is null) or neither. */
  TrainedModel train(
      Architecture architecture,
      Dataset train,
      Objective objective,
      float[] teacherLogits,
      FrozenTeacher onlineTeacher,
      RunOptions options,
      TrainingSetup setup) {
    return trainWith(
        architecture, train, objective,
        new TeacherFeed(teacherLogits, onlineTeacher == null ? List.of() : List.of(onlineTeacher), null), options, setup);
  }

  /** The one in-graph teacher a replicated graph supports, or null. */
  private static FrozenTeacher replicatedTeacher(List<FrozenTeacher> teachers) {
    if (teachers.size() > 1) {
      throw new IllegalArgumentException(
          "several in-graph teachers cannot be replicated: train on one device (no --devices or --cluster)");
    }
    return teachers.isEmpty() ? null : teachers.get(0);
  }

  /** The one training path (package-private for tests that add hooks to an online run). */
  TrainedModel trainWith(
      Architecture architecture,
      Dataset train,
      Objective objective,
      TeacherFeed teacher,
      RunOptions options,
      TrainingSetup setup) {
    if (replication.cluster() == null) {
      return attempt(architecture, train, objective, teacher, options, setup);
    }
    return ClusterRecovery.run(replication.cluster(), options, o -> attempt(architecture, train, objective, teacher, o, setup));
  }

  private TrainedModel attempt(
      Architecture architecture,
      Dataset train,
      Objective objective,
      TeacherFeed teacher,
      RunOptions options,
      TrainingSetup setup) {
    float[] teacherLogits = teacher.logits();
    List<FrozenTeacher> onlineTeachers = teacher.inGraph();
    // A per-batch teacher's feature points are fetched and fed only when the objective reads them.
    java.util.Map<String, long[]> fedFeatures = java.util.Map.of();
    if (teacher.perBatch() instanceof BatchFeatures f && !f.featureShapes().isEmpty()) {
      if (objective.needsFeatures()) {
        fedFeatures = f.featureShapes();
        if (replication.replicated()) {
          throw new IllegalArgumentException(
              "a teacher whose feature points are fed per batch cannot be replicated: train on one device");
        }
      } else {
        BatchLogits logitsOnly = f::logits;
        teacher = new TeacherFeed(teacher.logits(), teacher.inGraph(), logitsOnly, teacher.table(), teacher.stream());
      }
    }
    checkCompatible(architecture, train);
    if (options.validation() != null) {
      checkCompatible(architecture, options.validation());
    }
    int k = architecture.numClasses();
    if (!config.augmentation().isNone()) {
      if (objective.needsTeacher() && !teacher.online()) {
        // Cached logits belong to the unaugmented examples: the student would be taught the teacher's answer to a
        // picture it is not looking at.
        throw new IllegalArgumentException(
            "augmentation (" + config.augmentation() + ") cannot be combined with precomputed teacher logits: the "
                + "teacher must see each augmented batch; run the teacher online or train without augmentation");
      }
      if (train.exampleShape().length != 3) {
        throw new IllegalArgumentException(
            "augmentation (" + config.augmentation() + ") needs image examples [H, W, C]; " + train.name()
                + " has examples of shape " + Arrays.toString(train.exampleShape()));
      }
    }
    if (objective.needsTeacher() && objective.usesOwnPredictions()) {
      throw new IllegalArgumentException(objective.describe() + " cannot both need a teacher and use its own predictions");
    }
    TrainStream stream = teacher.stream();
    LogitTable table = teacher.table();
    if (stream != null) {
      if (!config.augmentation().isNone() || !setup.hooks().isEmpty() || objective.usesOwnPredictions()
          || teacher.online()) {
        throw new IllegalArgumentException(
            "streamed training data (" + stream.shards().name() + ") supports neither augmentation, training hooks,"
                + " self-distillation nor an online teacher: " + objective.describe());
      }
      if (objective.needsTeacher()
          && (table == null || table.size() != stream.shards().size() || table.numClasses() != k)) {
        throw new IllegalArgumentException(
            objective.describe() + " needs teacher logits for all " + stream.shards().size() + " streamed examples"
                + (table == null ? "" : "; the table holds " + table.size() + " x " + table.numClasses()));
      }
    } else if (table != null && objective.needsTeacher()
        && (table.size() != train.size() || table.numClasses() != k)) {
      throw new IllegalArgumentException(
          "the teacher-logit table holds " + table.size() + " x " + table.numClasses() + "; " + train.name() + " needs "
              + train.size() + " x " + k);
    }
    if (objective.needsTeacher() && !teacher.online() && table == null) {
      if (teacherLogits == null) {
        throw new IllegalArgumentException(objective.describe() + " needs teacher logits");
      }
      if (teacherLogits.length != (long) train.size() * k * objective.teachers()) {
        throw new IllegalArgumentException(
            "teacher logits hold " + teacherLogits.length + " values; " + train.name() + " needs "
                + (long) train.size() * k * objective.teachers());
      }
    }
    // The objective's own hooks (a random teacher's draw) run after the caller's.
    List<TrainingHook> hooks = new java.util.ArrayList<>(setup.hooks());
    hooks.addAll(objective.hooks());
    try (Replication.Resources resources = replication.resources()) {
      Graph graph = resources.graph();
      TrainingGraph g =
          replication.replicated()
              ? ReplicatedGraph.build(graph, architecture, objective, replicatedTeacher(onlineTeachers), config, setup, replication)
              : TrainingGraph.build(
                  graph, architecture, objective, onlineTeachers, config, setup, fedFeatures,
                  stream == null ? train.size() : 0);
      OwnPredictions own = objective.usesOwnPredictions() ? new OwnPredictions(train.size(), k, g.logits()) : null;
      List<TrainingListener> all = new java.util.ArrayList<>();
      if (options.validation() != null) {
        // First, so every other listener and the checkpoint see the epoch with its validation figures.
        all.add(new Validation(options.validation()));
      }
      all.addAll(listeners);
      EpochLoop loop =
          new EpochLoop(
              config, all, prefetch,
              new EpochLoop.Inputs(
                  architecture, train, teacherLogits, teacher.perBatch(), options, hooks, stream, table),
              g, own);
      try {
        Session session = resources.open(this.session);
        TrainingContext context = new TrainingContext(session, g, train);
        Checkpoints.Saved saved;
        try {
          for (TrainingHook h : hooks) {
            h.onStart(context);
          }
          saved = loop.run(session, context);
        } finally {
          for (TrainingHook h : hooks) {
            h.onEnd();
          }
        }
        resources.succeeded();
        return new TrainedModel(architecture, saved.prefix(), CheckpointCodec.history(saved.state()), g.parameters());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * The order in which epoch {@code epoch} visits {@code n} examples: a shuffle drawn from the {@code epoch}-th
   * split of one generator seeded by {@code seed}, so it depends on nothing but the seed and the epoch (a resumed
   * run replays it exactly).
   */
  static int[] epochOrder(int n, long seed, int epoch) {
    SplittableRandom root = new SplittableRandom(seed ^ 0x5DEECE66DL);
    SplittableRandom rng = root.split();
    for (int i = 0; i < epoch; i++) {
      rng = root.split();
    }
    return dev.tfkd.data.Splits.permutation(n, rng);
  }

  static void checkCompatible(Architecture architecture, Dataset data) {
    if (!Arrays.equals(architecture.inputShape(), data.exampleShape())) {
      throw new IllegalArgumentException(
          architecture.name() + " takes inputs of shape " + Arrays.toString(architecture.inputShape()) + " but "
              + data.name() + " has examples of shape " + Arrays.toString(data.exampleShape()));
    }
    if (architecture.numClasses() != data.numClasses()) {
      throw new IllegalArgumentException(
          architecture.name() + " has " + architecture.numClasses() + " classes but " + data.name() + " has "
              + data.numClasses());
    }
    if (data.size() == 0) {
      throw new IllegalArgumentException(data.name() + " has no examples");
    }
    // NaN or infinite features are refused before the first step, naming the example, rather than surfacing as a
    // diverged loss later.
    dev.tfkd.data.DataChecks.requireFinite(data);
  }
}
