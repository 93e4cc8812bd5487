package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Tensors;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.losses.LossContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Trains one model on one dataset with one objective: builds the training graph (the architecture in training
 * mode, the loss, gradients for the model's own trainable variables only, and the optimizer), runs the epochs
 * over seeded shuffles of the data, and saves the trained variables as a checkpoint.
 *
 * <p>When the objective needs a teacher, either the teacher's logits for every training example are passed in
 * (computed beforehand by the frozen teacher in its own graph, e.g. through {@link TeacherLogitCache}), or a {@link
 * FrozenTeacher} runs online ({@link #trainOnline}): its forward pass is built into this graph with its weights as
 * constants, so it sees each batch exactly as the student does. Either way nothing of the teacher is trained; an
 * online teacher's state (batch-norm moving statistics, held in {@code teacher/...} variables) is written to the
 * checkpoint beside the student's variables, and the student's inference graph and exports ignore it.
 * A NaN or infinite loss stops the run with a {@link TrainingDivergedException} naming the step.
 *
 * <p>The step loop does no graph building and no per-step tensor allocation for the batch: a {@link BatchFeeder}
 * prepares the next batch in reused tensors on a background thread while the current step runs.
 */
public final class Trainer {
  private final TrainConfig config;
  private final List<TrainingListener> listeners;

  private final ConfigProto session;
  private final int prefetch;

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
    this.config = Objects.requireNonNull(config, "config");
    this.listeners = List.copyOf(listeners);
    this.session = session == null ? sessionConfig(config.threads()) : session;
    this.prefetch = prefetch;
  }

  /** Session options for {@code threads} intra-op threads (0: TensorFlow's default). */
  public static ConfigProto sessionConfig(int threads) {
    ConfigProto.Builder b = ConfigProto.newBuilder();
    if (threads > 0) {
      b.setIntraOpParallelismThreads(threads).setInterOpParallelismThreads(Math.min(2, threads));
    }
    return b.build();
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
    return train(architecture, train, objective, teacherLogits, null, workDir);
  }

  /**
   * Trains {@code architecture} on {@code train} with the frozen {@code teacher} running online: its forward pass
   * is part of the training graph and sees every batch exactly as the student does (augmented, if the input is).
   */
  public TrainedModel trainOnline(
      Architecture architecture, Dataset train, Objective objective, FrozenTeacher teacher, Path workDir) {
    Objects.requireNonNull(teacher, "teacher");
    if (!objective.needsTeacher()) {
      throw new IllegalArgumentException(objective.describe() + " reads no teacher");
    }
    checkCompatible(teacher.architecture(), train);
    return train(architecture, train, objective, null, teacher, workDir);
  }

  private TrainedModel train(
      Architecture architecture,
      Dataset train,
      Objective objective,
      float[] teacherLogits,
      FrozenTeacher onlineTeacher,
      Path workDir) {
    checkCompatible(architecture, train);
    int k = architecture.numClasses();
    if (objective.needsTeacher() && onlineTeacher == null) {
      if (teacherLogits == null) {
        throw new IllegalArgumentException(objective.describe() + " needs teacher logits");
      }
      if (teacherLogits.length != train.size() * k) {
        throw new IllegalArgumentException(
            "teacher logits hold " + teacherLogits.length + " values; " + train.name() + " needs "
                + (long) train.size() * k);
      }
    }
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> x =
          tf.withName("inputs").placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(architecture.inputShape())));
      Placeholder<TInt32> labels = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TFloat32> epoch = tf.withName("epoch").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> lr = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> teacher =
          objective.needsTeacher() && onlineTeacher == null
              ? tf.withName("teacher_logits").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, k)))
              : null;

      TrainingVariables vars = new TrainingVariables(config.seed());
      Forward forward = architecture.build(tf, x, vars, Architecture.Mode.TRAINING);
      Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(k), tf.constant(1f), tf.constant(0f));
      Objective.LossTerms built =
          objective.build(
              tf,
              forward.logits(),
              onlineTeacher != null ? onlineTeacher.logits(tf, x) : teacher,
              new LossContext(labels, oneHot, epoch));
      // Named reads, so the three can be fetched together even when an objective returns one operand twice.
      Objective.LossTerms terms =
          new Objective.LossTerms(
              tf.withName("loss_total").identity(built.total()),
              tf.withName("loss_hard").identity(built.hard()),
              tf.withName("loss_soft").identity(built.soft()));

      List<Variable<TFloat32>> trainable = vars.trainable();
      List<Output<TFloat32>> grads = gradients(tf, terms.total(), trainable);
      Op apply = Optimizers.apply(tf, config.optimizer(), trainable, grads, lr);
      List<Op> stepOps = new ArrayList<>(forward.updates());
      stepOps.add(apply);
      Op step = tf.withControlDependencies(stepOps).withName("step").noOp();

      long parameters = trainable.stream().mapToLong(v -> v.shape().size()).sum();
      List<TrainingListener.EpochMetrics> history = new ArrayList<>();
      try (Session session = new Session(graph, this.session)) {
        runEpochs(session, architecture, train, teacherLogits, x, labels, epoch, lr, teacher, terms, step, history);
        Path prefix = workDir.resolve(architecture.name() + "-" + Long.toHexString(System.nanoTime())).resolve("variables");
        Files.createDirectories(prefix.getParent());
        session.save(prefix.toString());
        return new TrainedModel(architecture, prefix, history, parameters);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private void runEpochs(
      Session session,
      Architecture architecture,
      Dataset train,
      float[] teacherLogits,
      Placeholder<TFloat32> x,
      Placeholder<TInt32> labels,
      Placeholder<TFloat32> epochInput,
      Placeholder<TFloat32> lr,
      Placeholder<TFloat32> teacher,
      Objective.LossTerms terms,
      Op step,
      List<TrainingListener.EpochMetrics> history) {
    int n = train.size();
    int batch = Math.min(config.batchSize(), n);
    long totalSteps = (long) ((n + batch - 1) / batch) * config.epochs();
    // Batches are copied into reused tensors by a background thread while the previous step runs; the scalar
    // inputs are rebuilt only when their value changes. The step itself is fed and fetched through handles
    // resolved once, when the graph was built.
    try (BatchFeeder feeder =
            new BatchFeeder(train, teacher == null ? null : teacherLogits, architecture.numClasses(), batch,
                config.epochs(), config.seed(), prefetch);
        Scalar epochValue = new Scalar();
        Scalar rateValue = new Scalar()) {
      int stepsPerEpoch = feeder.stepsPerEpoch();
      long globalStep = 0;
      boolean stop = false;
      for (int ep = 0; ep < config.epochs() && !stop; ep++) {
        long start = System.nanoTime();
        double sumTotal = 0, sumHard = 0, sumSoft = 0;
        long seen = 0;
        for (int s = 0; s < stepsPerEpoch && !stop; s++, globalStep++) {
          float rate = config.optimizer().rateAt(globalStep, totalSteps);
          float total, hard, soft;
          int m;
          BatchFeeder.Batch b = feeder.next();
          try {
            m = b.size();
            Session.Runner r =
                session.runner().feed(x, b.x()).feed(labels, b.labels()).feed(epochInput, epochValue.of(ep))
                    .feed(lr, rateValue.of(rate));
            if (teacher != null) {
              r.feed(teacher, b.teacherLogits());
            }
            try (Result out = r.fetch(terms.total()).fetch(terms.hard()).fetch(terms.soft()).addTarget(step).run()) {
              total = ((TFloat32) out.get(0)).getFloat();
              hard = ((TFloat32) out.get(1)).getFloat();
              soft = ((TFloat32) out.get(2)).getFloat();
            }
          } finally {
            feeder.release(b);
          }
          if (!Float.isFinite(total)) {
            throw new TrainingDivergedException(
                architecture.name() + ": loss became " + total + " at epoch " + (ep + 1) + ", step " + (s + 1)
                    + " (global step " + (globalStep + 1) + "); lower the learning rate or check the data for NaN");
          }
          sumTotal += (double) total * m;
          sumHard += (double) hard * m;
          sumSoft += (double) soft * m;
          seen += m;
          TrainingListener.StepMetrics sm =
              new TrainingListener.StepMetrics(ep, s, stepsPerEpoch, globalStep, m, rate, total, hard, soft);
          for (TrainingListener l : listeners) {
            l.onStep(sm);
            stop |= l.stopRequested();
          }
        }
        TrainingListener.EpochMetrics em =
            new TrainingListener.EpochMetrics(
                ep, sumTotal / seen, sumHard / seen, sumSoft / seen, (System.nanoTime() - start) / 1e9);
        history.add(em);
        for (TrainingListener l : listeners) {
          l.onEpoch(em);
        }
      }
    }
  }

  /** A float scalar input whose tensor is rebuilt only when its value changes. */
  private static final class Scalar implements AutoCloseable {
    private TFloat32 tensor;
    private float value;

    TFloat32 of(float v) {
      if (tensor == null || Float.floatToRawIntBits(v) != Float.floatToRawIntBits(value)) {
        close();
        tensor = Tensors.scalar(v);
        value = v;
      }
      return tensor;
    }

    @Override
    public void close() {
      if (tensor != null) {
        tensor.close();
        tensor = null;
      }
    }
  }

  /** Gradients of {@code loss} for exactly {@code vars}; a variable the loss does not reach is an error. */
  static List<Output<TFloat32>> gradients(Ops tf, Operand<TFloat32> loss, List<Variable<TFloat32>> vars) {
    Gradients g = tf.gradients(loss, vars);
    List<Output<TFloat32>> out = new ArrayList<>(vars.size());
    for (int i = 0; i < vars.size(); i++) {
      Output<TFloat32> dy = g.<TFloat32>dy(i);
      if (dy == null || dy.isClosed()) {
        throw new IllegalStateException("the loss does not depend on variable " + vars.get(i).op().name());
      }
      out.add(dy);
    }
    return out;
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
  }
}
