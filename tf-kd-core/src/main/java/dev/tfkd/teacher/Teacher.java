package dev.tfkd.teacher;

import dev.tfkd.data.Dataset;

/**
 * A trained model that distillation learns from: it knows its class count and input shape and gives logits for a
 * dataset. Implementations: {@link SavedModelTeacher} (a SavedModel in its own session), {@link GraphTeacher} (a
 * frozen in-graph model whose forward pass can also be built into the student's graph) and {@link CachedTeacher}
 * (any teacher, its logits remembered per dataset).
 *
 * <p>A teacher may own native resources: close it when done.
 */
public interface Teacher extends AutoCloseable {
  /** The number of classes K the teacher predicts: the width of its logits. */
  int numClasses();

  /** The shape of one example the teacher takes, without the batch dimension. */
  long[] inputShape();

  /**
   * The teacher's logits for every example of {@code data}, {@code data.size() x K} row-major.
   *
   * @throws IllegalArgumentException if {@code data}'s examples or class count do not fit the teacher
   */
  float[] logits(Dataset data);

  /**
   * The teacher's logits for one batch of {@code n} examples stored row-major in {@code features} ({@code n} times
   * the product of {@link #inputShape()} values), {@code n x K} row-major: what an augmented run asks for every
   * batch the student is fed, on the batch-preparation thread while the student's previous step runs (so an
   * implementation must allow being called from a thread other than the one that made it). The caller owns both
   * arrays.
   *
   * <p>The default wraps the batch as a dataset and calls {@link #logits(Dataset)}.
   *
   * @throws IllegalArgumentException if {@code features} does not hold {@code n} examples the teacher takes
   */
  default float[] logits(float[] features, int n) {
    long size = 1;
    for (long d : inputShape()) {
      size *= d;
    }
    if (n < 0 || (long) n * size != features.length) {
      throw new IllegalArgumentException(
          source() + ": " + features.length + " values do not make " + n + " examples of shape "
              + java.util.Arrays.toString(inputShape()));
    }
    // Labels are not read by a teacher; the dataset only carries the features.
    return logits(new Dataset("batch", features, new int[n], inputShape(), numClasses(), null));
  }

  /** Where the teacher comes from (a path, an architecture name), for provenance records and messages. */
  String source();

  /**
   * One line saying how the teacher's output is read (e.g. a SavedModel's probabilities turned into
   * log-probabilities, and what that was decided from), for the run's announcement, {@code results.json} and the
   * export's manifest; empty when there is nothing to say (the teacher gives logits by construction). Complete once
   * {@link #logits} has been called.
   */
  default String outputReading() {
    return "";
  }

  /**
   * Ops outside the allow-list of pure computation that the teacher's graph holds and that were let through on
   * request ({@code allowUnsafeOps}), for the run's warning, {@code results.json} and the export's manifest; empty
   * when none were (the default).
   */
  default java.util.List<dev.tfkd.export.GraphSafety.Finding> unsafeOps() {
    return java.util.List.of();
  }

  /** Releases the teacher's native resources; the default holds none. */
  @Override
  default void close() {}
}
