package dev.tfkd.training;

import dev.tfkd.data.io.RawBatch;
import dev.tfkd.data.io.RecordShards;
import dev.tfkd.data.io.ShuffledRecords;
import dev.tfkd.graph.InferenceModel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The batches of one epoch of streamed data: a reader thread draws the epoch's records from the stream in order
 * (through its shuffle buffer), cuts them into batches and hands each batch's parsing to a pool of parser threads;
 * the training thread takes the parsed batches in order and copies them into reused tensors. At most {@code
 * prefetch + parserThreads} batches are read ahead, so memory stays bounded whatever the size of the data. The
 * batches' arrays (the raw records' bytes, the parsed features, labels and teacher logits) are a fixed set of slots
 * recycled from batch to batch: after the first few batches the pipeline allocates nothing per record, so a small
 * model's fast steps do not pay for garbage collection.
 *
 * <p>The reader stops after exactly the epoch's records, so once the feeder is closed the stream stands at the end
 * of the epoch (its position goes into the checkpoint). Batches are a pure function of the stream's state: threads
 * change when a batch is parsed, never what it holds. One consumer thread; the stream is touched only by the reader
 * thread until {@link #close()} returns.
 */
final class StreamFeeder implements Feed {
  private final RecordShards shards;
  private final ShuffledRecords stream;
  private final LogitTable teacher;
  private final int numClasses;
  private final int batchSize;
  private final long examples;
  private final int steps;
  private final int epoch;
  private final ExecutorService parsers;
  private final BlockingQueue<Object> ready;
  private final BlockingQueue<Slot> free;
  private final Thread reader;
  private volatile boolean closed;
  private int consumed;
  private Buffers full;
  private Buffers last;
  private BatchFeeder.Batch out;

  /** One batch's arrays on the heap, reused: its raw records and what they parse into. */
  private static final class Slot {
    final RawBatch raw = new RawBatch();
    final float[] x;
    final int[] y;
    final float[] t;
    int size;

    Slot(int batch, int exampleSize, int numClasses, boolean teacher) {
      x = new float[batch * exampleSize];
      y = new int[batch];
      t = teacher ? new float[batch * numClasses] : null;
    }
  }

  /**
   * @param teacher logits by global example index, or null
   * @param examples records in this epoch
   */
  StreamFeeder(
      RecordShards shards, ShuffledRecords stream, LogitTable teacher, int batchSize, long examples, int epoch,
      int prefetch, int parserThreads) {
    this.shards = shards;
    this.stream = stream;
    this.teacher = teacher;
    this.numClasses = shards.numClasses();
    this.batchSize = batchSize;
    this.examples = examples;
    this.steps = (int) ((examples + batchSize - 1) / batchSize);
    this.epoch = epoch;
    this.parsers = Executors.newFixedThreadPool(parserThreads, r -> {
      Thread t = new Thread(r, "tfkd-record-parser");
      t.setDaemon(true);
      return t;
    });
    this.ready = new ArrayBlockingQueue<>(Math.max(1, prefetch) + parserThreads + 1);
    // Every batch queued or being parsed holds a slot, and the consumer one more while it copies.
    int slots = Math.max(1, prefetch) + parserThreads + 2;
    this.free = new ArrayBlockingQueue<>(slots);
    for (int i = 0; i < slots; i++) {
      free.add(new Slot(batchSize, shards.exampleSize(), numClasses, teacher != null));
    }
    this.reader = new Thread(this::read, "tfkd-record-reader");
    reader.setDaemon(true);
    reader.start();
  }

  int steps() {
    return steps;
  }

  private void read() {
    try {
      for (int s = 0; s < steps && !closed; s++) {
        int m = (int) Math.min(batchSize, examples - (long) s * batchSize);
        Slot slot = null;
        while (slot == null && !closed) {
          // Polled, not taken: close() must be able to stop a reader that waits for a slot.
          slot = free.poll(10, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        if (slot == null) {
          return;
        }
        slot.raw.clear();
        slot.size = m;
        for (int i = 0; i < m; i++) {
          stream.next(slot.raw);
        }
        Slot filled = slot;
        ready.put(parsers.submit(() -> parse(filled)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      // Put, not offer: with a full queue the failure must still reach the consumer, which drains the queue (or
      // close() empties it), rather than leave it waiting for a batch that never comes.
      try {
        ready.put(e);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Slot parse(Slot slot) {
    int e = shards.exampleSize();
    for (int i = 0; i < slot.size; i++) {
      slot.y[i] = shards.parse(slot.raw, i, slot.x, i * e);
      if (slot.t != null) {
        teacher.read(slot.raw.index(i), slot.t, i * numClasses);
      }
    }
    return slot;
  }

  @Override
  public BatchFeeder.Batch next() {
    if (consumed >= steps) {
      throw new java.util.NoSuchElementException("all " + steps + " batches of the epoch were consumed");
    }
    if (out != null) {
      throw new IllegalStateException("release the previous batch first");
    }
    Slot p;
    try {
      Object o = ready.take();
      if (o instanceof Throwable t) {
        throw rethrow(t);
      }
      p = (Slot) ((Future<?>) o).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a batch", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
    int m = p.size;
    Buffers b = buffers(m);
    b.xData.write(p.x, 0, m * shards.exampleSize());
    b.yData.write(p.y, 0, m);
    if (b.t != null) {
      b.tData.write(p.t, 0, m * numClasses);
    }
    // Copied into the tensors: the slot goes back for the reader's next batch.
    free.add(p);
    out = new BatchFeeder.Batch(epoch, consumed, m, b.x, b.y, b.t);
    consumed++;
    return out;
  }

  private static RuntimeException rethrow(Throwable t) {
    // A bad record reaches the user as the reader's own message (file and record), not as a wrapper.
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error err) {
      throw err;
    }
    return new IllegalStateException("preparing a batch failed: " + t, t);
  }

  @Override
  public void release(BatchFeeder.Batch batch) {
    if (batch != out) {
      throw new IllegalArgumentException("not the current batch of this feeder, or released twice");
    }
    out = null;
  }

  private Buffers buffers(int m) {
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

  /** Stops the reader (after the record it is drawing) and the parsers, and frees the tensors. */
  @Override
  public void close() {
    closed = true;
    // Not interrupted: an interrupt inside a file read would close the stream's shard channel mid-record. Emptying
    // the queue lets a reader blocked on a full queue see the flag.
    try {
      while (reader.isAlive()) {
        ready.clear();
        reader.join(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    parsers.shutdownNow();
    if (full != null) {
      full.close();
    }
    if (last != null) {
      last.close();
    }
  }

  /** The tensors of one batch size. */
  private final class Buffers {
    final int size;
    final TFloat32 x;
    final TInt32 y;
    final TFloat32 t;
    final org.tensorflow.ndarray.buffer.FloatDataBuffer xData;
    final org.tensorflow.ndarray.buffer.IntDataBuffer yData;
    final org.tensorflow.ndarray.buffer.FloatDataBuffer tData;

    Buffers(int size) {
      this.size = size;
      TFloat32 xt = TFloat32.tensorOf(InferenceModel.batchShape(shards.exampleShape(), size));
      TInt32 yt;
      try {
        yt = TInt32.tensorOf(Shape.of(size));
      } catch (RuntimeException e) {
        xt.close();
        throw e;
      }
      TFloat32 tt = null;
      if (teacher != null) {
        try {
          tt = TFloat32.tensorOf(Shape.of(size, numClasses));
        } catch (RuntimeException e) {
          xt.close();
          yt.close();
          throw e;
        }
      }
      this.x = xt;
      this.y = yt;
      this.t = tt;
      // Views of the tensors' memory, made once: the copy of every batch goes straight into them.
      this.xData = xt.asRawTensor().data().asFloats();
      this.yData = yt.asRawTensor().data().asInts();
      this.tData = tt == null ? null : tt.asRawTensor().data().asFloats();
    }

    void close() {
      x.close();
      y.close();
      if (t != null) {
        t.close();
      }
    }
  }
}
