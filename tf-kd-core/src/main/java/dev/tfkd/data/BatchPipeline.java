package dev.tfkd.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Batches of a dataset for training, assembled on a background thread so the graph never waits on Java code: each
 * epoch visits the examples in a fresh seeded random order, copies them into batch arrays, optionally augments them,
 * and hands them over through a bounded queue ({@code prefetch} batches ahead).
 *
 * <p>The sequence of batches depends only on the dataset, the batch size, the seed and the augmentation, never on
 * thread timing. The last batch of an epoch may be smaller. Every batch carries the dataset indices of its examples,
 * so per-example data kept elsewhere (teacher logits) can be gathered with {@link Batch#gather}. Close the pipeline
 * to stop the thread early; an exception on the thread is rethrown by {@link #next()}.
 */
public final class BatchPipeline implements Iterator<BatchPipeline.Batch>, AutoCloseable {

  /**
   * One batch.
   *
   * @param epoch 0-based epoch
   * @param step 0-based step within the epoch
   * @param size the number of examples (the arrays hold exactly this many)
   * @param features {@code size * exampleSize} values
   * @param labels {@code size} labels
   * @param indices the dataset index of each example
   */
  public record Batch(int epoch, int step, int size, float[] features, int[] labels, int[] indices) {
    /** Rows {@code indices} of a row-major {@code [n, width]} array, e.g. teacher logits aligned with the dataset. */
    public float[] gather(float[] rows, int width) {
      float[] out = new float[size * width];
      for (int i = 0; i < size; i++) {
        System.arraycopy(rows, indices[i] * width, out, i * width, width);
      }
      return out;
    }
  }

  private static final Batch END = new Batch(-1, -1, 0, new float[0], new int[0], new int[0]);

  private final Dataset data;
  private final int batchSize;
  private final int epochs;
  private final long seed;
  private final Augmentation augmentation;
  private final BlockingQueue<Batch> queue;
  private final Thread producer;
  private volatile Throwable failure;
  private Batch pending;
  private boolean done;

  /**
   * Starts producing.
   *
   * @param augmentation applied to every batch, or null for none
   * @param prefetch batches prepared ahead, >= 1
   */
  public BatchPipeline(Dataset data, int batchSize, int epochs, long seed, Augmentation augmentation, int prefetch) {
    if (batchSize < 1 || epochs < 1 || prefetch < 1) {
      throw new IllegalArgumentException(
          "batch size, epochs and prefetch must be >= 1, got " + batchSize + ", " + epochs + ", " + prefetch);
    }
    if (data.size() == 0) {
      throw new IllegalArgumentException(data.name() + " has no examples");
    }
    if (augmentation != null && data.exampleShape().length != 3) {
      throw new IllegalArgumentException("augmentation needs images [H, W, C]; " + data.name() + " has examples of shape "
          + java.util.Arrays.toString(data.exampleShape()));
    }
    this.data = data;
    this.batchSize = Math.min(batchSize, data.size());
    this.epochs = epochs;
    this.seed = seed;
    this.augmentation = augmentation;
    this.queue = new ArrayBlockingQueue<>(prefetch);
    this.producer = new Thread(this::produce, "tfkd-batches-" + data.name());
    producer.setDaemon(true);
    producer.start();
  }

  /** Steps per epoch: {@code ceil(size / batchSize)}. */
  public int stepsPerEpoch() {
    return (data.size() + batchSize - 1) / batchSize;
  }

  private void produce() {
    try {
      SplittableRandom orderRng = new SplittableRandom(seed ^ 0x5DEECE66DL);
      SplittableRandom augRng = new SplittableRandom(seed ^ 0xA5A5A5A5L);
      int e = data.exampleSize();
      float[] scratch = new float[e];
      int n = data.size();
      for (int ep = 0; ep < epochs; ep++) {
        int[] order = Splits.permutation(n, orderRng.split());
        for (int s = 0, from = 0; from < n; s++, from += batchSize) {
          int m = Math.min(batchSize, n - from);
          float[] x = new float[m * e];
          int[] y = new int[m];
          int[] idx = new int[m];
          for (int i = 0; i < m; i++) {
            int src = order[from + i];
            System.arraycopy(data.features(), src * e, x, i * e, e);
            y[i] = data.labels()[src];
            idx[i] = src;
          }
          if (augmentation != null) {
            augmentation.apply(x, m, data.exampleShape(), augRng, scratch);
          }
          queue.put(new Batch(ep, s, m, x, y, idx));
        }
      }
      queue.put(END);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Throwable t) {
      failure = t;
      queue.clear();
      queue.offer(END);
    }
  }

  @Override
  public boolean hasNext() {
    if (done) {
      return false;
    }
    if (pending == null) {
      try {
        while ((pending = queue.poll(1, TimeUnit.SECONDS)) == null) {
          if (!producer.isAlive() && queue.isEmpty()) {
            throw new IllegalStateException("batch producer stopped", failure);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a batch", e);
      }
    }
    if (pending == END) {
      done = true;
      if (failure != null) {
        throw new IllegalStateException("preparing batches of " + data.name() + " failed: " + failure.getMessage(), failure);
      }
      return false;
    }
    return true;
  }

  @Override
  public Batch next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Batch b = pending;
    pending = null;
    return b;
  }

  @Override
  public void close() {
    done = true;
    producer.interrupt();
    try {
      producer.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
