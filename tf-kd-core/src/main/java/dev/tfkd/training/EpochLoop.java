package dev.tfkd.training;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Tensors;
import dev.tfkd.data.io.ShuffledRecords;
import dev.tfkd.data.io.StreamPosition;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.training.checkpoint.Checkpoints;
import dev.tfkd.training.checkpoint.TrainerState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The epochs of one run over a built {@link TrainingGraph}: resume, then per epoch the seeded order, the batches
 * (augmented as the configuration says), one step each with the hooks' feeds and fetches, the NaN stop, the
 * epoch's figures (training CMI included), the listeners' additions to them (validation), checkpoint and
 * listeners. Single-threaded; one per run.
 */
final class EpochLoop {
  /** The checkpoint array holding self-distillation's previous-epoch logits. */
  private static final String OWN_PREDICTIONS = "own_predictions";

  /**
   * What one run trains on.
   *
   * @param teacherLogits precomputed teacher logits aligned with {@code train}, or {@code null}
   * @param batchTeacher a teacher asked for each fed batch's logits, or {@code null}
   * @param hooks the setup's training hooks
   */
  record Inputs(
      Architecture architecture,
      Dataset train,
      float[] teacherLogits,
      BatchLogits batchTeacher,
      Trainer.RunOptions options,
      List<TrainingHook> hooks,
      TrainStream stream,
      LogitTable teacherTable) {
    Inputs {
      hooks = List.copyOf(hooks);
    }

    Inputs(
        Architecture architecture,
        Dataset train,
        float[] teacherLogits,
        BatchLogits batchTeacher,
        Trainer.RunOptions options,
        List<TrainingHook> hooks) {
      this(architecture, train, teacherLogits, batchTeacher, options, hooks, null, null);
    }
  }

  private final TrainConfig config;
  private final List<TrainingListener> listeners;
  private final int prefetch;
  private final Inputs run;
  private final TrainingGraph g;
  private final OwnPredictions own;
  private TrainingContext context;
  // Streamed data: the stream, continued from epoch to epoch (and from the checkpoint on resume).
  private ShuffledRecords records;

  EpochLoop(
      TrainConfig config, List<TrainingListener> listeners, int prefetch, Inputs run, TrainingGraph graph, OwnPredictions own) {
    this.config = config;
    this.listeners = List.copyOf(listeners);
    this.prefetch = prefetch;
    this.run = run;
    this.g = graph;
    this.own = own;
  }

  /** Runs the remaining epochs and returns the final checkpoint. */
  Checkpoints.Saved run(Session session, TrainingContext context) throws IOException {
    try {
      return runEpochs(session, context);
    } finally {
      if (records != null) {
        records.close();
      }
    }
  }

  private Checkpoints.Saved runEpochs(Session session, TrainingContext context) throws IOException {
    this.context = context;
    Trainer.RunOptions options = run.options();
    List<TrainingListener.EpochMetrics> history = new ArrayList<>();
    Checkpoints.Saved saved = null;
    if (options.resume()) {
      saved = restore(session);
      history.addAll(CheckpointCodec.history(saved.state()));
      for (TrainingListener l : listeners) {
        l.onResume(List.copyOf(history));
      }
    }
    TrainStream stream = run.stream();
    if (stream != null) {
      records =
          saved == null || !saved.state().hasStream()
              ? stream.shards().records(config.seed(), stream.shuffleBuffer(), true)
              : stream.shards().records(config.seed(), stream.shuffleBuffer(), CheckpointCodec.position(saved.state().getStream(), stream));
    }
    long globalStep = saved == null ? 0 : saved.state().getGlobalStep();
    boolean stop = history.size() >= config.epochs();
    for (TrainingListener l : listeners) {
      // A run that early stopping had already ended stays ended.
      stop |= !history.isEmpty() && l.stopRequested();
    }
    for (TrainingListener l : listeners) {
      l.onStart(context);
    }
    for (int ep = history.size(); ep < config.epochs() && !stop; ep++) {
      long start = System.nanoTime();
      TrainingListener.EpochMetrics em = runEpoch(session, ep, globalStep);
      for (TrainingListener l : listeners) {
        em = l.completeEpoch(em);
      }
      // The epoch's time includes what the listeners added to it (validation), as a user waits for it.
      em = em.withSeconds((System.nanoTime() - start) / 1e9);
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
    Checkpoints checkpoints = run.options().checkpoints();
    Checkpoints.Saved saved =
        checkpoints.latest()
            .orElseThrow(() -> new IllegalArgumentException(checkpoints.dir() + ": no checkpoint to resume from"));
    TrainerState st = saved.state();
    String name = run.architecture().name();
    if (!st.getArchitecture().equals(name) || st.getSeed() != config.seed()) {
      throw new IllegalArgumentException(
          saved.prefix().getParent() + ": checkpoint of " + st.getArchitecture() + " with seed " + st.getSeed()
              + ", but this run trains " + name + " with seed " + config.seed());
    }
    session.restore(saved.prefix().toString());
    CheckpointCodec.restoreHooks(st, run.hooks());
    if (own != null) {
      own.restorePrevious(saved.floats(OWN_PREDICTIONS, own.previous().length));
    }
    return saved;
  }

  /** Training state outside the graph that a checkpoint must keep. */
  private Map<String, float[]> arrays() {
    return own == null ? Map.of() : Map.of(OWN_PREDICTIONS, own.previous());
  }

  private TrainerState state(List<TrainingListener.EpochMetrics> history, long globalStep) {
    TrainerState st = CheckpointCodec.state(run.architecture().name(), config.seed(), history, globalStep, run.hooks());
    if (records == null) {
      return st;
    }
    return st.toBuilder().setStream(CheckpointCodec.stream(records.position(), run.stream())).build();
  }

  private TrainingListener.EpochMetrics runEpoch(Session session, int ep, long firstStep) {
    Dataset train = run.train();
    List<TrainingHook> hooks = run.hooks();
    TrainStream stream = run.stream();
    long examples = stream == null ? train.size() : stream.examplesPerEpoch(config.batchSize());
    int k = run.architecture().numClasses();
    int batch = (int) Math.min(config.batchSize(), examples);
    int stepsPerEpoch = (int) ((examples + batch - 1) / batch);
    long totalSteps = (long) stepsPerEpoch * config.epochs();
    float[] zBuf = new float[batch * k];
    long start = System.nanoTime();
    for (TrainingHook h : hooks) {
      h.beforeEpoch(ep, context);
    }
    // Streamed batches carry their own labels (read back from the batch's tensor, in batch order); data in memory is
    // visited in the epoch's seeded order.
    int[] order = stream == null ? Trainer.epochOrder(train.size(), config.seed(), ep) : identity(batch);
    int[] streamLabels = stream == null ? null : new int[batch];
    float[] teacherSource = g.teacher() == null ? null : own != null ? own.previous() : run.teacherLogits();
    BatchLogits batchTeacher = g.teacher() == null || own != null ? null : run.batchTeacher();
    double sumTotal = 0, sumHard = 0, sumSoft = 0;
    long correctSum = 0;
    EmpiricalCmi.Accumulator cmi = new EmpiricalCmi.Accumulator(k);
    long seen = 0;
    long globalStep = firstStep;
    float rate = Float.NaN;
    // One feeder per epoch: it copies the next batches into reused tensors on a background thread while the
    // current step runs, and a teacher source that changes between epochs (self-distillation) is read only after
    // the previous epoch has finished.
    // Several teachers' logits sit side by side: the fed width is the placeholder's, teachers x K.
    int teacherWidth = g.teacher() == null ? k : (int) g.teacher().shape().get(1);
    try (Feed feeder =
            stream != null
                ? new StreamFeeder(
                    stream.shards(), records, g.teacher() == null ? null : run.teacherTable(), batch, examples, ep,
                    prefetch, stream.parserThreads())
                : new BatchFeeder(
                    new BatchFeeder.Source(train, teacherSource, teacherWidth, batchTeacher, g.teacher() == null ? null : run.teacherTable()),
                    config, ep, order, prefetch);
        Scalar epochValue = new Scalar();
        Scalar rateValue = new Scalar()) {
      for (int s = 0; s < stepsPerEpoch; s++, globalStep++) {
        int from = s * batch;
        rate = config.optimizer().rateAt(globalStep, totalSteps);
        float total, hard, soft;
        int m;
        BatchFeeder.Batch b = feeder.next();
        // Losses with per-example state (CRD's memory banks) read the batch's positions in the training data and
        // key their random draws by the step; both are fed only when a loss asked for them.
        TInt32 exampleIndex = null;
        TInt64 stepValue = null;
        try {
          m = b.size();
          if (streamLabels != null) {
            b.labels().asRawTensor().data().asInts().read(streamLabels, 0, m);
          }
          Session.Runner r =
              session.runner().feed(g.x(), b.x()).feed(g.labels(), b.labels()).feed(g.epoch(), epochValue.of(ep))
                  .feed(g.learningRate(), rateValue.of(rate));
          if (g.teacher() != null) {
            r.feed(g.teacher(), b.teacherLogits());
          }
          for (Map.Entry<String, org.tensorflow.op.core.Placeholder<TFloat32>> f : g.teacherFeatures().entrySet()) {
            TFloat32 v = b.teacherFeatures().get(f.getKey());
            if (v == null) {
              throw new IllegalStateException("the batch holds no teacher feature point " + f.getKey());
            }
            r.feed(f.getValue(), v);
          }
          if (g.exampleIndex() != null) {
            exampleIndex = Tensors.ints(Shape.of(m), order, from, m);
            r.feed(g.exampleIndex(), exampleIndex);
          }
          if (g.globalStep() != null) {
            stepValue = TInt64.scalarOf(globalStep);
            r.feed(g.globalStep(), stepValue);
          }
          r.fetch(g.terms().total()).fetch(g.terms().hard()).fetch(g.terms().soft()).fetch(g.logits()).addTarget(g.step());
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
              List<Tensor> fetched = new ArrayList<>(count);
              for (int f = 0; f < count; f++) {
                fetched.add(out.get(next++));
              }
              h.afterStep(fetched);
            }
          }
        } finally {
          feeder.release(b);
          if (exampleIndex != null) {
            exampleIndex.close();
          }
          if (stepValue != null) {
            stepValue.close();
          }
        }
        if (!Float.isFinite(total)) {
          throw new TrainingDivergedException(
              run.architecture().name() + ": loss became " + total + " at epoch " + (ep + 1) + ", step " + (s + 1)
                  + " (global step " + (globalStep + 1) + "); lower the learning rate or check the data for NaN");
        }
        int[] labels = train.labels();
        int at = from;
        if (stream != null) {
          // The batch's labels, read from its tensor while the step ran.
          labels = streamLabels;
          at = 0;
        }
        int correct = correct(zBuf, labels, order, at, m, k);
        correctSum += correct;
        cmi.add(zBuf, labels, order, at, m);
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
    // Validation figures are added by the Validation listener (completeEpoch), like anything else measured at an
    // epoch's end.
    return new TrainingListener.EpochMetrics(
        ep, sumTotal / seen, sumHard / seen, sumSoft / seen, (System.nanoTime() - start) / 1e9,
        (double) correctSum / seen,
        rate, globalStep, null, cmi.value());
  }

  private static int[] identity(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    return a;
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
}
