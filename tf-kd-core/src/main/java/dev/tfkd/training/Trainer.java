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
import java.util.SplittableRandom;
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
 * <p>When the objective needs a teacher, the teacher's logits for every training example are passed in (computed
 * beforehand by the frozen teacher in its own graph), so the teacher's variables are never in this graph at all.
 * For self-distillation ({@link Objective#usesOwnPredictions()}) the model's own logits from the previous epoch
 * take the teacher's place. A NaN or infinite loss stops the run with a {@link TrainingDivergedException} naming
 * the step.
 */
public final class Trainer {
  private final TrainConfig config;
  private final List<TrainingListener> listeners;

  public Trainer(TrainConfig config, List<TrainingListener> listeners) {
    this.config = Objects.requireNonNull(config, "config");
    this.listeners = List.copyOf(listeners);
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
    checkCompatible(architecture, train);
    int k = architecture.numClasses();
    if (objective.needsTeacher()) {
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
          objective.needsTeacher() || objective.usesOwnPredictions()
              ? tf.withName("teacher_logits").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, k)))
              : null;

      TrainingVariables vars = new TrainingVariables(config.seed(), setup.initialValues());
      Forward forward = architecture.build(tf, x, vars, Architecture.Mode.TRAINING);
      vars.checkAllInitialValuesUsed();
      Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(k), tf.constant(1f), tf.constant(0f));
      Objective.LossTerms built =
          objective.build(tf, forward.logits(), teacher, new LossContext(labels, oneHot, epoch));
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
      try (Session session = new Session(graph, sessionConfig(config.threads()))) {
        OwnPredictions own =
            objective.usesOwnPredictions() ? new OwnPredictions(train.size(), k, forward.logits()) : null;
        TrainingContext context =
            new TrainingContext(session, x, labels, forward.logits(), train, architecture.inputShape(), k);
        try {
          for (TrainingHook h : setup.hooks()) {
            h.onStart(context);
          }
          runEpochs(session, architecture, train, teacherLogits, own, x, labels, epoch, lr, teacher, terms, step,
              history, setup.hooks(), context);
        } finally {
          for (TrainingHook h : setup.hooks()) {
            h.onEnd();
          }
        }
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
      OwnPredictions own,
      Placeholder<TFloat32> x,
      Placeholder<TInt32> labels,
      Placeholder<TFloat32> epochInput,
      Placeholder<TFloat32> lr,
      Placeholder<TFloat32> teacher,
      Objective.LossTerms terms,
      Op step,
      List<TrainingListener.EpochMetrics> history,
      List<TrainingHook> hooks,
      TrainingContext context) {
    int n = train.size();
    int e = train.exampleSize();
    int k = architecture.numClasses();
    int batch = Math.min(config.batchSize(), n);
    int stepsPerEpoch = (n + batch - 1) / batch;
    long totalSteps = (long) stepsPerEpoch * config.epochs();
    float[] xBuf = new float[batch * e];
    int[] yBuf = new int[batch];
    float[] tBuf = teacher == null ? null : new float[batch * k];
    SplittableRandom orderRng = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
    long globalStep = 0;
    for (int ep = 0; ep < config.epochs(); ep++) {
      long start = System.nanoTime();
      for (TrainingHook h : hooks) {
        h.beforeEpoch(ep, context);
      }
      int[] order = shuffled(n, orderRng.split());
      float[] teacherSource = own != null ? own.previous() : teacherLogits;
      double sumTotal = 0, sumHard = 0, sumSoft = 0;
      for (int s = 0; s < stepsPerEpoch; s++, globalStep++) {
        int from = s * batch;
        int m = Math.min(batch, n - from);
        for (int i = 0; i < m; i++) {
          int src = order[from + i];
          System.arraycopy(train.features(), src * e, xBuf, i * e, e);
          yBuf[i] = train.labels()[src];
          if (tBuf != null) {
            System.arraycopy(teacherSource, src * k, tBuf, i * k, k);
          }
        }
        float rate = config.optimizer().rateAt(globalStep, totalSteps);
        float total, hard, soft;
        try (TFloat32 xt = Tensors.floats(InferenceModel.batchShape(architecture.inputShape(), m), xBuf, 0, m * e);
            TInt32 yt = Tensors.ints(Shape.of(m), yBuf, 0, m);
            TFloat32 et = Tensors.scalar(ep);
            TFloat32 lt = Tensors.scalar(rate);
            TFloat32 tt = tBuf == null ? null : Tensors.floats(Shape.of(m, k), tBuf, 0, m * k)) {
          Session.Runner r = session.runner().feed(x, xt).feed(labels, yt).feed(epochInput, et).feed(lr, lt);
          if (tt != null) {
            r.feed(teacher, tt);
          }
          r.fetch(terms.total()).fetch(terms.hard()).fetch(terms.soft()).addTarget(step);
          if (own != null) {
            r.fetch(own.logits());
          }
          for (TrainingHook h : hooks) {
            h.feed(r);
            h.fetches().forEach(r::fetch);
          }
          try (Result out = r.run()) {
            total = ((TFloat32) out.get(0)).getFloat();
            hard = ((TFloat32) out.get(1)).getFloat();
            soft = ((TFloat32) out.get(2)).getFloat();
            int next = 3;
            if (own != null) {
              own.record((TFloat32) out.get(next++), order, from, m);
            }
            for (TrainingHook h : hooks) {
              int count = h.fetches().size();
              List<org.tensorflow.Tensor> fetched = new ArrayList<>(count);
              for (int f = 0; f < count; f++) {
                fetched.add(out.get(next++));
              }
              h.afterStep(fetched);
            }
          }
        }
        if (!Float.isFinite(total)) {
          throw new TrainingDivergedException(
              architecture.name() + ": loss became " + total + " at epoch " + (ep + 1) + ", step " + (s + 1)
                  + " (global step " + (globalStep + 1) + "); lower the learning rate or check the data for NaN");
        }
        sumTotal += (double) total * m;
        sumHard += (double) hard * m;
        sumSoft += (double) soft * m;
        TrainingListener.StepMetrics sm =
            new TrainingListener.StepMetrics(ep, s, stepsPerEpoch, globalStep, m, rate, total, hard, soft);
        for (TrainingListener l : listeners) {
          l.onStep(sm);
        }
      }
      if (own != null) {
        own.endEpoch();
      }
      TrainingListener.EpochMetrics em =
          new TrainingListener.EpochMetrics(
              ep, sumTotal / n, sumHard / n, sumSoft / n, (System.nanoTime() - start) / 1e9);
      history.add(em);
      for (TrainingListener l : listeners) {
        l.onEpoch(em);
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

  private static int[] shuffled(int n, SplittableRandom rng) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}
