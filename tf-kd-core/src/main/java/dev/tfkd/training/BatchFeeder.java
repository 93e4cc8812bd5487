package dev.tfkd.training;

import dev.tfkd.data.Augmentation;
import dev.tfkd.data.Dataset;
import dev.tfkd.graph.InferenceModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
import org.tensorflow.ndarray.buffer.IntDataBuffer;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Assembles the training batches of a run, in the run's seeded order, into reused native tensors, optionally on
 * a background thread while the previous step runs.
 *
 * <p>The order is a pure function of the seed: epoch {@code e} visits a Fisher-Yates shuffle drawn from the
 * {@code e}-th split of {@code SplittableRandom(seed ^ 0x5DEECE66D)}, in consecutive batches of {@code batchSize}
 * (the last one of an epoch may be smaller). Prefetching changes only when a batch is copied, never which examples
 * it holds, so a run with and without prefetch feeds bit-identical tensors.
 *
 * <p>With an {@link Augmentation}, every batch's features are augmented after they are gathered, drawing from
 * {@link Augmentation#random(long, int) Augmentation.random(seed, epoch)} batch after batch; the batches are
 * prepared in order on one thread, so the crops and flips too are a pure function of the seed and the epoch.
 *
 * <p>With a {@link BatchLogits} teacher in the {@link Source}, the teacher is asked for each batch's logits right
 * after the batch is assembled and augmented, on the same thread, with exactly the features the batch's {@code x}
 * tensor then holds; its answer fills the batch's teacher-logits tensor. With a producer thread the teacher's work
 * overlaps with the consumer's step.
 *
 * <p>The tensors live in a small ring of slots ({@code prefetch + 1}): the producer fills a free slot, the
 * consumer takes it with {@link #next()}, feeds its tensors to a step and hands it back with {@link
 * #release(Batch)}. No tensor is allocated per step (only each slot's first short last-batch). The tensors belong
 * to the feeder: do not close them, and do not use a batch after releasing it. One consumer thread only.
 */
public final class BatchFeeder implements AutoCloseable, Feed {
  /** Batches prepared ahead by default: one hides the copy behind a step, a second absorbs a slow copy. */
  public static final int DEFAULT_PREFETCH = 2;

  private final Dataset data;
  private final float[] teacherLogits;
  private final LogitTable table;
  private final BatchLogits teacher;
  /** The teacher's feature points per example, when it serves them ({@link BatchFeatures}); empty otherwise. */
  private final java.util.Map<String, long[]> featureShapes;
  private final int numClasses;
  private final int batchSize;
  private final int epochs;
  private final int stepsPerEpoch;
  private final long[] exampleShape;
  private final int exampleSize;
  private final java.util.function.IntFunction<int[]> orderOfEpoch;
  private final Augmentation augmentation;
  private final long seed;
  private java.util.SplittableRandom augmentRng;
  private float[] augmentScratch;
  private final List<Slot> slots = new ArrayList<>();
  private final BlockingQueue<Slot> free;
  private final BlockingQueue<Object> ready;
  private final Thread producer;
  // Producer-side cursor (the consumer's thread when there is no producer thread).
  private int[] order;
  private int cursorEpoch;
  private int cursorStep;
  private int consumed;
  private final long totalSteps;
  private volatile boolean closed;

  /**
   * One prepared batch.
   *
   * @param epoch the epoch, from 0
   * @param step the step within the epoch, from 0
   * @param size examples in the batch
   * @param x features {@code [size, exampleShape...]}
   * @param labels int32 {@code [size]}
   * @param teacherLogits {@code [size, K]}, or {@code null} when the feeder has no teacher logits and no teacher
   * @param teacherFeatures the teacher's feature points {@code [size, shape...]} by name, when a {@link
   *     BatchFeatures} teacher serves them; empty otherwise
   */
  public record Batch(
      int epoch, int step, int size, TFloat32 x, TInt32 labels, TFloat32 teacherLogits,
      java.util.Map<String, TFloat32> teacherFeatures) {
    /** Copies the map of feature tensors (not the tensors). */
    public Batch {
      teacherFeatures = teacherFeatures == null ? java.util.Map.of() : java.util.Map.copyOf(teacherFeatures);
    }

    /** A batch without teacher feature points. */
    public Batch(int epoch, int step, int size, TFloat32 x, TInt32 labels, TFloat32 teacherLogits) {
      this(epoch, step, size, x, labels, teacherLogits, java.util.Map.of());
    }
  }

  /**
   * What a feeder reads: the examples and, optionally, teacher logits aligned with them or a teacher asked for
   * each batch's logits (not both).
   *
   * @param data the training examples
   * @param teacherLogits {@code data.size() x numClasses} logits aligned with {@code data}, or {@code null}
   * @param numClasses K
   * @param teacher asked for the logits of every batch as it is fed (after augmentation), or {@code null}
   */
  public record Source(Dataset data, float[] teacherLogits, int numClasses, BatchLogits teacher, LogitTable table) {
    /**
     * Validates the source; throws IllegalArgumentException when more than one of logits, a teacher and a table are
     * given, or when the teacher logits (or the table) do not hold {@code data.size() * numClasses} values.
     */
    public Source {
      Objects.requireNonNull(data, "data");
      if ((teacherLogits != null ? 1 : 0) + (teacher != null ? 1 : 0) + (table != null ? 1 : 0) > 1) {
        throw new IllegalArgumentException("a feeder takes precomputed teacher logits, a logit table or a teacher, not two");
      }
      if (table != null && (table.size() != data.size() || table.numClasses() != numClasses)) {
        throw new IllegalArgumentException(
            "the teacher-logit table holds " + table.size() + " x " + table.numClasses() + "; " + data.name() + " needs "
                + data.size() + " x " + numClasses);
      }
      if (teacherLogits != null && teacherLogits.length != (long) data.size() * numClasses) {
        throw new IllegalArgumentException(
            "teacher logits hold " + teacherLogits.length + " values; " + data.name() + " needs "
                + (long) data.size() * numClasses);
      }
    }

    /** The examples and, optionally, precomputed teacher logits aligned with them. */
    public Source(Dataset data, float[] teacherLogits, int numClasses) {
      this(data, teacherLogits, numClasses, null, null);
    }

    /** The examples and precomputed teacher logits or a teacher asked per batch (or neither). */
    public Source(Dataset data, float[] teacherLogits, int numClasses, BatchLogits teacher) {
      this(data, teacherLogits, numClasses, teacher, null);
    }
  }

  /** How batches are cut: the epochs, each epoch's order, prefetch and augmentation (seeded from {@code seed}). */
  private record Plan(
      int batchSize,
      int firstEpoch,
      int epochs,
      java.util.function.IntFunction<int[]> orderOfEpoch,
      int prefetch,
      Augmentation augmentation,
      long seed) {}

  /**
   * The batches of {@code epochs} passes over {@code source}, without augmentation.
   *
   * @param batchSize examples per batch (capped at the dataset size)
   * @param epochs passes over the data
   * @param seed the run's seed (fixes the order)
   * @param prefetch batches prepared ahead on a background thread; 0 prepares each batch in {@link #next()}
   */
  public BatchFeeder(Source source, int batchSize, int epochs, long seed, int prefetch) {
    this(
        source,
        new Plan(
            batchSize, 0, epochs, ep -> Trainer.epochOrder(source.data().size(), seed, ep), prefetch, Augmentation.NONE,
            seed));
  }

  /**
   * The batches of the single epoch {@code epoch}, visiting the examples in {@code order}, each augmented by {@code
   * config}'s augmentation (seeded from its seed and {@code epoch}), {@code config.batchSize()} at a time: what the
   * trainer uses, one feeder per epoch, so that a teacher source that changes between epochs (self-distillation) is
   * read only once the previous epoch has finished.
   */
  BatchFeeder(Source source, TrainConfig config, int epoch, int[] order, int prefetch) {
    this(source, new Plan(config.batchSize(), epoch, 1, ep -> order, prefetch, config.augmentation(), config.seed()));
  }

  private BatchFeeder(Source source, Plan plan) {
    Dataset data = source.data();
    float[] teacherLogits = source.teacherLogits();
    int numClasses = source.numClasses();
    int batchSize = plan.batchSize();
    int epochs = plan.epochs();
    int prefetch = plan.prefetch();
    Augmentation augmentation = plan.augmentation();
    this.data = data;
    if (data.size() == 0 || batchSize < 1 || epochs < 1 || prefetch < 0) {
      throw new IllegalArgumentException(
          "bad feeder settings: " + data.size() + " examples, batch " + batchSize + ", " + epochs + " epochs, prefetch "
              + prefetch);
    }
    this.teacherLogits = teacherLogits;
    this.table = source.table();
    this.teacher = source.teacher();
    this.featureShapes =
        teacher instanceof BatchFeatures f ? new java.util.LinkedHashMap<>(f.featureShapes()) : java.util.Map.of();
    this.numClasses = numClasses;
    this.batchSize = Math.min(batchSize, data.size());
    this.epochs = epochs;
    this.stepsPerEpoch = (data.size() + this.batchSize - 1) / this.batchSize;
    this.totalSteps = (long) stepsPerEpoch * epochs;
    this.exampleShape = data.exampleShape();
    this.exampleSize = data.exampleSize();
    this.orderOfEpoch = plan.orderOfEpoch();
    this.augmentation = Objects.requireNonNull(augmentation, "augmentation");
    this.seed = plan.seed();
    if (!augmentation.isNone() && exampleShape.length != 3) {
      throw new IllegalArgumentException(
          "augmentation " + augmentation + " needs image examples [H, W, C]; " + data.name() + " has examples of shape "
              + java.util.Arrays.toString(exampleShape));
    }
    this.cursorEpoch = plan.firstEpoch();
    int slotCount = prefetch + 1;
    this.free = new ArrayBlockingQueue<>(slotCount);
    this.ready = new ArrayBlockingQueue<>(slotCount + 1);
    for (int i = 0; i < slotCount; i++) {
      Slot s = new Slot();
      slots.add(s);
      free.add(s);
    }
    if (prefetch > 0) {
      producer = new Thread(this::produce, "tfkd-batch-feeder");
      producer.setDaemon(true);
      producer.start();
    } else {
      producer = null;
    }
  }

  /** Steps in each epoch. */
  public int stepsPerEpoch() {
    return stepsPerEpoch;
  }

  /** The effective batch size (the requested one capped at the dataset size). */
  public int batchSize() {
    return batchSize;
  }

  /**
   * The next batch, waiting for the producer if it is behind. Throws {@link java.util.NoSuchElementException}
   * after the last batch of the last epoch.
   */
  public Batch next() {
    if (consumed >= totalSteps) {
      throw new java.util.NoSuchElementException("all " + totalSteps + " batches were consumed");
    }
    Slot slot;
    if (producer == null) {
      slot = take(free);
      fillNext(slot);
    } else {
      Object o = take(ready);
      if (o instanceof Throwable t) {
        throw new IllegalStateException("preparing a batch failed: " + t, t);
      }
      slot = (Slot) o;
    }
    consumed++;
    return slot.batch;
  }

  /** Hands a batch's slot back for refilling; its tensors must no longer be in use. */
  public void release(Batch batch) {
    for (Slot s : slots) {
      if (s.batch == batch) {
        s.batch = null;
        free.add(s);
        return;
      }
    }
    throw new IllegalArgumentException("not a batch of this feeder, or released twice");
  }

  private void produce() {
    try {
      for (long i = 0; i < totalSteps && !closed; i++) {
        Slot s = take(free);
        if (closed) {
          return;
        }
        fillNext(s);
        ready.put(s);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      ready.offer(e);
    }
  }

  private void fillNext(Slot slot) {
    if (order == null || cursorStep == stepsPerEpoch) {
      if (order != null) {
        cursorEpoch++;
      }
      cursorStep = 0;
      order = orderOfEpoch.apply(cursorEpoch);
      if (order.length != data.size()) {
        throw new IllegalArgumentException("an epoch order must visit all " + data.size() + " examples");
      }
      if (!augmentation.isNone()) {
        augmentRng = Augmentation.random(seed, cursorEpoch);
      }
    }
    int from = cursorStep * batchSize;
    int m = Math.min(batchSize, data.size() - from);
    Buffers b = slot.buffers(m);
    float[] features = data.features();
    int[] labels = data.labels();
    int e = exampleSize;
    int k = numClasses;
    boolean augment = !augmentation.isNone();
    for (int i = 0; i < m; i++) {
      int src = order[from + i];
      if (b.xRows != null) {
        System.arraycopy(features, src * e, b.xRows, i * e, e);
      } else {
        b.x.offset((long) i * e).write(features, src * e, e);
      }
      b.yRows[i] = labels[src];
      if (teacherLogits != null) {
        System.arraycopy(teacherLogits, src * k, b.tRows, i * k, k);
      } else if (table != null) {
        table.read(src, b.tRows, i * k);
      }
    }
    if (augment) {
      if (augmentScratch == null) {
        augmentScratch = new float[e];
      }
      augmentation.apply(b.xRows, m, exampleShape, augmentRng, augmentScratch);
    }
    if (b.xRows != null) {
      b.x.write(b.xRows, 0, m * e);
    }
    b.y.write(b.yRows, 0, m);
    if (teacherLogits != null || table != null) {
      b.t.write(b.tRows, 0, m * k);
    } else if (teacher != null) {
      // The teacher answers exactly what the student will be fed: the rows as augmented, before they leave the heap.
      float[] t;
      if (featureShapes.isEmpty()) {
        t = teacher.logits(b.xRows, m);
      } else {
        BatchFeatures.Answer a = ((BatchFeatures) teacher).answer(b.xRows, m);
        t = a.logits();
        for (String point : featureShapes.keySet()) {
          float[] v = a.points().get(point);
          long size = b.features.get(point).size();
          if (v == null || v.length != size) {
            throw new IllegalStateException(
                "the teacher gave " + (v == null ? "no" : v.length) + " values of feature point " + point
                    + " for a batch of " + m + "; expected " + size);
          }
          b.features.get(point).data().write(v, 0, v.length);
        }
      }
      if (t == null || t.length != m * k) {
        throw new IllegalStateException(
            "the teacher gave " + (t == null ? "no" : t.length) + " logits for a batch of " + m + "; expected " + m
                + " x " + k);
      }
      b.t.write(t, 0, m * k);
    }
    slot.batch = new Batch(cursorEpoch, cursorStep, m, b.xt, b.yt, b.tt, b.featureTensors());
    cursorStep++;
  }

  private static <T> T take(BlockingQueue<T> q) {
    try {
      return q.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a batch", e);
    }
  }

  /** Stops the producer and frees every tensor. */
  @Override
  public void close() {
    closed = true;
    if (producer != null) {
      producer.interrupt();
      try {
        producer.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (Slot s : slots) {
      s.close();
    }
  }

  /** The tensors of one ring position, for the full batch size and (lazily) the short last batch. */
  private final class Slot {
    Buffers full;
    Buffers last;
    Batch batch;

    Buffers buffers(int m) {
      if (m == batchSize) {
        if (full == null) {
          full = new Buffers(m);
        }
        return full;
      }
      if (last == null || last.size != m) {
        if (last != null) {
          last.close();
        }
        last = new Buffers(m);
      }
      return last;
    }

    void close() {
      if (full != null) {
        full.close();
      }
      if (last != null) {
        last.close();
      }
    }
  }

  /** Native tensors of one batch size with cached views of their memory. */
  private final class Buffers {
    final int size;
    final TFloat32 xt;
    final TInt32 yt;
    final TFloat32 tt;
    final FloatDataBuffer x;
    final IntDataBuffer y;
    final FloatDataBuffer t;
    final int[] yRows;
    final float[] tRows;
    final float[] xRows;
    /** The teacher's feature points of this batch size, by name (empty without a feature-serving teacher). */
    final java.util.Map<String, FeatureBuffer> features = new java.util.LinkedHashMap<>();

    Buffers(int size) {
      this.size = size;
      List<Tensor> made = new ArrayList<>();
      try {
        xt = TFloat32.tensorOf(InferenceModel.batchShape(exampleShape, size));
        made.add(xt);
        yt = TInt32.tensorOf(Shape.of(size));
        made.add(yt);
        tt = teacherLogits == null && table == null && teacher == null ? null : TFloat32.tensorOf(Shape.of(size, numClasses));
        if (tt != null) {
          made.add(tt);
        }
        for (java.util.Map.Entry<String, long[]> e : featureShapes.entrySet()) {
          TFloat32 f = TFloat32.tensorOf(InferenceModel.batchShape(e.getValue(), size));
          made.add(f);
          features.put(e.getKey(), new FeatureBuffer(f, f.asRawTensor().data().asFloats(), f.shape().size()));
        }
      } catch (RuntimeException e) {
        made.forEach(Tensor::close);
        throw e;
      }
      x = xt.asRawTensor().data().asFloats();
      y = yt.asRawTensor().data().asInts();
      t = tt == null ? null : tt.asRawTensor().data().asFloats();
      yRows = new int[size];
      tRows = teacherLogits == null && table == null ? null : new float[size * numClasses];
      // Augmentation and a batch teacher work on a heap copy of the batch before it goes to the tensor.
      xRows = augmentation.isNone() && teacher == null ? null : new float[size * exampleSize];
    }

    java.util.Map<String, TFloat32> featureTensors() {
      java.util.Map<String, TFloat32> out = new java.util.LinkedHashMap<>();
      features.forEach((name, f) -> out.put(name, f.tensor()));
      return out;
    }

    void close() {
      xt.close();
      yt.close();
      if (tt != null) {
        tt.close();
      }
      features.values().forEach(f -> f.tensor().close());
    }
  }

  /** One feature point's tensor of one batch size, with a cached view of its memory. */
  private record FeatureBuffer(TFloat32 tensor, FloatDataBuffer data, long size) {}
}
