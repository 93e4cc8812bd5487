package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Batches;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Tensors;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.losses.LossContext;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.training.checkpoint.Checkpoints;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * take the teacher's place (and are kept in checkpoints). A NaN or infinite loss stops the run with a
 * {@link TrainingDivergedException} naming the step.
 *
 * <p>With {@link RunOptions} a run evaluates validation data after every epoch, checkpoints its whole state
 * (weights, optimizer slots, epoch, step, history) every epoch, and can resume from its latest checkpoint. The
 * data order of epoch {@code e} is a pure function of the seed and {@code e}, so a resumed run takes exactly the
 * steps the uninterrupted run would have taken; with one thread the results are bit-identical. (Stateful random
 * ops inside a model, such as dropout masks, restart their sequence on resume.)
 */
public final class Trainer {
  /** The checkpoint array holding self-distillation's previous-epoch logits. */
  private static final String OWN_PREDICTIONS = "own_predictions";

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

  /** The one training path: cached logits, an online teacher (then {@code teacherLogits} is null) or neither. */
  TrainedModel train(
      Architecture architecture,
      Dataset train,
      Objective objective,
      float[] teacherLogits,
      FrozenTeacher onlineTeacher,
      RunOptions options,
      TrainingSetup setup) {
    checkCompatible(architecture, train);
    if (options.validation() != null) {
      checkCompatible(architecture, options.validation());
    }
    int k = architecture.numClasses();
    if (!config.augmentation().isNone()) {
      if (objective.needsTeacher() && onlineTeacher == null) {
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
          (objective.needsTeacher() && onlineTeacher == null) || objective.usesOwnPredictions()
              ? tf.withName("teacher_logits").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, k)))
              : null;

      TrainingVariables vars = new TrainingVariables(config.seed(), setup.initialValues());
      Forward forward = architecture.build(tf, x, vars, Architecture.Mode.TRAINING);
      vars.checkAllInitialValuesUsed();
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

      // The same architecture in inference mode on the same variables scores validation data between epochs.
      Operand<TFloat32> evalLogits =
          architecture.build(tf.withSubScope("eval"), x, vars.shared(), Architecture.Mode.INFERENCE).logits();

      long parameters = trainable.stream().mapToLong(v -> v.shape().size()).sum();
      OwnPredictions own =
          objective.usesOwnPredictions() ? new OwnPredictions(train.size(), k, forward.logits()) : null;
      Loop loop =
          new Loop(architecture, train, teacherLogits, own, options, x, labels, epoch, lr, teacher, terms,
              forward.logits(), evalLogits, step, setup.hooks());
      try (Session session = new Session(graph, this.session)) {
        TrainingContext context =
            new TrainingContext(session, x, labels, forward.logits(), train, architecture.inputShape(), k);
        Checkpoints.Saved saved;
        try {
          for (TrainingHook h : setup.hooks()) {
            h.onStart(context);
          }
          saved = loop.run(session, context);
        } finally {
          for (TrainingHook h : setup.hooks()) {
            h.onEnd();
          }
        }
        return new TrainedModel(architecture, saved.prefix(), fromState(saved.state()), parameters);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** The placeholders and fetches of one training graph, and the epoch loop over them. */
  private final class Loop {
    private final Architecture architecture;
    private final Dataset train;
    private final float[] teacherLogits;
    private final OwnPredictions own;
    private final RunOptions options;
    private final Placeholder<TFloat32> x;
    private final Placeholder<TInt32> labels;
    private final Placeholder<TFloat32> epochInput;
    private final Placeholder<TFloat32> lr;
    private final Placeholder<TFloat32> teacher;
    private final Objective.LossTerms terms;
    private final Operand<TFloat32> logits;
    private final Operand<TFloat32> evalLogits;
    private final Op step;
    private final List<TrainingHook> hooks;
    private TrainingContext context;

    Loop(
        Architecture architecture,
        Dataset train,
        float[] teacherLogits,
        OwnPredictions own,
        RunOptions options,
        Placeholder<TFloat32> x,
        Placeholder<TInt32> labels,
        Placeholder<TFloat32> epochInput,
        Placeholder<TFloat32> lr,
        Placeholder<TFloat32> teacher,
        Objective.LossTerms terms,
        Operand<TFloat32> logits,
        Operand<TFloat32> evalLogits,
        Op step,
        List<TrainingHook> hooks) {
      this.architecture = architecture;
      this.train = train;
      this.teacherLogits = teacherLogits;
      this.own = own;
      this.options = options;
      this.x = x;
      this.labels = labels;
      this.epochInput = epochInput;
      this.lr = lr;
      this.teacher = teacher;
      this.terms = terms;
      this.logits = logits;
      this.evalLogits = evalLogits;
      this.step = step;
      this.hooks = List.copyOf(hooks);
    }

    /** Runs the remaining epochs and returns the final checkpoint. */
    Checkpoints.Saved run(Session session, TrainingContext context) throws IOException {
      this.context = context;
      List<TrainingListener.EpochMetrics> history = new ArrayList<>();
      Checkpoints.Saved saved = null;
      if (options.resume()) {
        saved = restore(session);
        history.addAll(fromState(saved.state()));
        for (TrainingListener l : listeners) {
          l.onResume(List.copyOf(history));
        }
      }
      long globalStep = saved == null ? 0 : saved.state().getGlobalStep();
      boolean stop = history.size() >= config.epochs();
      for (TrainingListener l : listeners) {
        // A run that early stopping had already ended stays ended.
        stop |= !history.isEmpty() && l.stopRequested();
      }
      for (int ep = history.size(); ep < config.epochs() && !stop; ep++) {
        TrainingListener.EpochMetrics em = runEpoch(session, ep, globalStep);
        globalStep = em.globalStep();
        history.add(em);
        boolean last = ep == config.epochs() - 1;
        if (options.everyEpoch() || last) {
          saved = options.checkpoints().save(session, state(history, globalStep), arrays());
        }
        for (TrainingListener l : listeners) {
          l.onEpoch(em);
        }
        for (TrainingListener l : listeners) {
          stop |= l.stopRequested();
        }
        if (stop && !options.everyEpoch() && !last) {
          saved = options.checkpoints().save(session, state(history, globalStep), arrays());
        }
      }
      return saved;
    }

    private Checkpoints.Saved restore(Session session) throws IOException {
      Checkpoints.Saved saved =
          options.checkpoints().latest()
              .orElseThrow(() -> new IllegalArgumentException(options.checkpoints().dir() + ": no checkpoint to resume from"));
      dev.tfkd.training.checkpoint.TrainerState st = saved.state();
      if (!st.getArchitecture().equals(architecture.name()) || st.getSeed() != config.seed()) {
        throw new IllegalArgumentException(
            saved.prefix().getParent() + ": checkpoint of " + st.getArchitecture() + " with seed " + st.getSeed()
                + ", but this run trains " + architecture.name() + " with seed " + config.seed());
      }
      session.restore(saved.prefix().toString());
      for (int i = 0; i < hooks.size(); i++) {
        java.util.Map<String, double[]> hs = new java.util.HashMap<>();
        String prefix = i + "/";
        for (dev.tfkd.training.checkpoint.HookValues hv : st.getHookStateList()) {
          if (hv.getName().startsWith(prefix)) {
            hs.put(hv.getName().substring(prefix.length()), hv.getValuesList().stream().mapToDouble(Double::doubleValue).toArray());
          }
        }
        hooks.get(i).restoreState(hs);
      }
      if (own != null) {
        own.restorePrevious(saved.floats(OWN_PREDICTIONS, own.previous().length));
      }
      return saved;
    }

    /** Training state outside the graph that a checkpoint must keep. */
    private java.util.Map<String, float[]> arrays() {
      return own == null ? java.util.Map.of() : java.util.Map.of(OWN_PREDICTIONS, own.previous());
    }

    private dev.tfkd.training.checkpoint.TrainerState state(List<TrainingListener.EpochMetrics> history, long globalStep) {
      dev.tfkd.training.checkpoint.TrainerState.Builder b =
          dev.tfkd.training.checkpoint.TrainerState.newBuilder()
              .setArchitecture(architecture.name())
              .setSeed(config.seed())
              .setEpochsDone(history.size())
              .setGlobalStep(globalStep);
      history.forEach(e -> b.addHistory(toRecord(e)));
      for (int i = 0; i < hooks.size(); i++) {
        for (var v : hooks.get(i).checkpointState().entrySet()) {
          // Prefixed by the hook's position, so two hooks may use the same names.
          dev.tfkd.training.checkpoint.HookValues.Builder hv = dev.tfkd.training.checkpoint.HookValues.newBuilder().setName(i + "/" + v.getKey());
          for (double d : v.getValue()) {
            hv.addValues(d);
          }
          b.addHookState(hv);
        }
      }
      return b.build();
    }

    private TrainingListener.EpochMetrics runEpoch(Session session, int ep, long firstStep) {
      int n = train.size();
      int k = architecture.numClasses();
      int batch = Math.min(config.batchSize(), n);
      int stepsPerEpoch = (n + batch - 1) / batch;
      long totalSteps = (long) stepsPerEpoch * config.epochs();
      float[] zBuf = new float[batch * k];
      long start = System.nanoTime();
      for (TrainingHook h : hooks) {
        h.beforeEpoch(ep, context);
      }
      int[] order = epochOrder(n, config.seed(), ep);
      float[] teacherSource = teacher == null ? null : own != null ? own.previous() : teacherLogits;
      double sumTotal = 0, sumHard = 0, sumSoft = 0;
      long correctSum = 0;
      TrainCmi cmi = new TrainCmi(k);
      long seen = 0;
      long globalStep = firstStep;
      float rate = Float.NaN;
      // One feeder per epoch: it copies the next batches into reused tensors on a background thread while the
      // current step runs, and a teacher source that changes between epochs (self-distillation) is read only after
      // the previous epoch has finished.
      try (BatchFeeder feeder = new BatchFeeder(train, teacherSource, k, config, ep, order, prefetch);
          Scalar epochValue = new Scalar();
          Scalar rateValue = new Scalar()) {
        for (int s = 0; s < stepsPerEpoch; s++, globalStep++) {
          int from = s * batch;
          rate = config.optimizer().rateAt(globalStep, totalSteps);
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
            r.fetch(terms.total()).fetch(terms.hard()).fetch(terms.soft()).fetch(logits).addTarget(step);
            for (TrainingHook h : hooks) {
              h.feed(r);
              h.fetches().forEach(r::fetch);
            }
            try (Result out = r.run()) {
              total = ((TFloat32) out.get(0)).getFloat();
              hard = ((TFloat32) out.get(1)).getFloat();
              soft = ((TFloat32) out.get(2)).getFloat();
              ((TFloat32) out.get(3)).asRawTensor().data().asFloats().read(zBuf, 0, m * k);
              if (own != null) {
                own.record((TFloat32) out.get(3), order, from, m);
              }
              int next = 4;
              for (TrainingHook h : hooks) {
                int count = h.fetches().size();
                List<org.tensorflow.Tensor> fetched = new ArrayList<>(count);
                for (int f = 0; f < count; f++) {
                  fetched.add(out.get(next++));
                }
                h.afterStep(fetched);
              }
            }
          } finally {
            feeder.release(b);
          }
          if (!Float.isFinite(total)) {
            throw new TrainingDivergedException(
                architecture.name() + ": loss became " + total + " at epoch " + (ep + 1) + ", step " + (s + 1)
                    + " (global step " + (globalStep + 1) + "); lower the learning rate or check the data for NaN");
          }
          int correct = correct(zBuf, train.labels(), order, from, m, k);
          correctSum += correct;
          cmi.add(zBuf, train.labels(), order, from, m);
          sumTotal += (double) total * m;
          sumHard += (double) hard * m;
          sumSoft += (double) soft * m;
          TrainingListener.StepMetrics sm =
              new TrainingListener.StepMetrics(
                  ep, s, stepsPerEpoch, globalStep, m, rate, total, hard, soft, (float) correct / m);
          seen += m;
          boolean stop = false;
          for (TrainingListener l : listeners) {
            l.onStep(sm);
            stop |= l.stopRequested();
          }
          if (stop) {
            // A listener that stops mid-epoch (a time-boxed benchmark) ends the run here; the epoch's figures
            // cover the examples seen.
            globalStep++;
            break;
          }
        }
      }
      if (own != null) {
        own.endEpoch();
      }
      Evaluation validation = options.validation() == null ? null : evaluate(session, options.validation());
      return new TrainingListener.EpochMetrics(
          ep, sumTotal / seen, sumHard / seen, sumSoft / seen, (System.nanoTime() - start) / 1e9,
          (double) correctSum / seen,
          rate, globalStep, validation, cmi.value());
    }

    /** Scores {@code data} with the inference-mode forward pass on the current weights. */
    private Evaluation evaluate(Session session, Dataset data) {
      float[] out =
          Batches.logits(session, x, evalLogits, architecture.numClasses(), data, Batches.defaultBatchSize(data.exampleSize()));
      return Metrics.evaluate(out, data);
    }
  }

  /**
   * The empirical CMI {@code (1/N) sum_i KL(P_i || Q_{y_i})} of a stream of logits, in one pass: it equals
   * {@code (1/N) sum_i sum_c P_ic log P_ic - sum_y (N_y / N) sum_c Q_yc log Q_yc}, because the centroid
   * {@code Q_y} is the mean of the {@code P_i} of class {@code y}; so only the summed negative entropy and the
   * per-class sums of probabilities need keeping.
   */
  static final class TrainCmi {
    private final int k;
    private final double[] classSums;
    private final long[] counts;
    private double negEntropy;
    private long n;

    TrainCmi(int k) {
      this.k = k;
      this.classSums = new double[k * k];
      this.counts = new long[k];
    }

    /** Adds {@code m} rows of logits {@code z} with labels {@code y[0..m)}. */
    void add(float[] z, int[] y, int m) {
      int[] identity = new int[m];
      for (int i = 0; i < m; i++) {
        identity[i] = i;
      }
      add(z, y, identity, 0, m);
    }

    /** Adds {@code m} rows of logits {@code z}, row {@code i} labelled {@code labels[order[from + i]]}. */
    void add(float[] z, int[] labels, int[] order, int from, int m) {
      double[] p = new double[k];
      for (int i = 0; i < m; i++) {
        int label = labels[order[from + i]];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++) {
          max = Math.max(max, z[i * k + c]);
        }
        double sum = 0;
        for (int c = 0; c < k; c++) {
          p[c] = Math.exp(z[i * k + c] - max);
          sum += p[c];
        }
        for (int c = 0; c < k; c++) {
          p[c] /= sum;
          if (p[c] > 0) {
            negEntropy += p[c] * Math.log(p[c]);
          }
          classSums[label * k + c] += p[c];
        }
        counts[label]++;
        n++;
      }
    }

    double value() {
      if (n == 0) {
        return Double.NaN;
      }
      double centroidTerm = 0;
      for (int y = 0; y < k; y++) {
        for (int c = 0; c < k; c++) {
          double q = counts[y] == 0 ? 0 : classSums[y * k + c] / counts[y];
          if (q > 0) {
            centroidTerm += counts[y] * q * Math.log(q);
          }
        }
      }
      // Rounding can leave a tiny negative value where the predictions do not depend on the example.
      return Math.max(0, (negEntropy - centroidTerm) / n);
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

  private static int correct(float[] z, int[] labels, int[] order, int from, int m, int k) {
    int correct = 0;
    for (int i = 0; i < m; i++) {
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (z[i * k + c] > z[i * k + best]) {
          best = c;
        }
      }
      if (best == labels[order[from + i]]) {
        correct++;
      }
    }
    return correct;
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

  static dev.tfkd.training.checkpoint.EpochRecord toRecord(TrainingListener.EpochMetrics e) {
    Evaluation v = e.validation();
    return dev.tfkd.training.checkpoint.EpochRecord.newBuilder()
        .setEpoch(e.epoch())
        .setGlobalStep(e.globalStep())
        .setTotal(e.total())
        .setHard(e.hard())
        .setSoft(e.soft())
        .setAccuracy(e.accuracy())
        .setLearningRate(e.learningRate())
        .setSeconds(e.seconds())
        .setValExamples(v == null ? 0 : v.examples())
        .setValLoss(v == null ? Double.NaN : v.nll())
        .setValAccuracy(v == null ? Double.NaN : v.accuracy())
        .setValKlToPosterior(v == null ? Double.NaN : v.klToPosterior())
        .setValBcpdError(v == null ? Double.NaN : v.bcpdError())
        .setValEce(v == null ? Double.NaN : v.ece())
        .setValCmi(v == null ? Double.NaN : v.cmi())
        .setTrainCmi(e.trainCmi())
        .addAllValPerClassAccuracy(
            v == null ? List.of() : java.util.Arrays.stream(v.perClassAccuracy()).boxed().toList())
        .build();
  }

  static List<TrainingListener.EpochMetrics> fromState(dev.tfkd.training.checkpoint.TrainerState state) {
    List<TrainingListener.EpochMetrics> out = new ArrayList<>();
    for (dev.tfkd.training.checkpoint.EpochRecord r : state.getHistoryList()) {
      Evaluation v =
          r.getValExamples() == 0
              ? null
              : new Evaluation(
                  r.getValExamples(), r.getValAccuracy(), r.getValLoss(), r.getValKlToPosterior(),
                  r.getValBcpdError(),
                  r.getValPerClassAccuracyList().stream().mapToDouble(Double::doubleValue).toArray(),
                  r.getValEce(), r.getValCmi());
      out.add(
          new TrainingListener.EpochMetrics(
              r.getEpoch(), r.getTotal(), r.getHard(), r.getSoft(), r.getSeconds(), r.getAccuracy(),
              r.getLearningRate(), r.getGlobalStep(), v, r.hasTrainCmi() ? r.getTrainCmi() : Double.NaN));
    }
    return out;
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
    // NaN or infinite features are refused before the first step, naming the example, rather than surfacing as a
    // diverged loss later.
    dev.tfkd.data.DataChecks.requireFinite(data);
  }
}
