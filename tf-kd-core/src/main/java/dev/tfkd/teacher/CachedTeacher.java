package dev.tfkd.teacher;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.RecordShards;
import dev.tfkd.training.LogitTable;
import dev.tfkd.training.TeacherLogitCache;
import java.util.Objects;

/**
 * Any {@link Teacher} whose logits are remembered per dataset ({@link TeacherLogitCache}, in memory or in a
 * directory): asking twice for the same data, e.g. across the runs of an experiment, runs the teacher once. The
 * cache key is the teacher's fingerprint and the dataset's content.
 */
public final class CachedTeacher implements Teacher {
  private final Teacher teacher;
  private final String fingerprint;
  private final TeacherLogitCache cache;

  /**
   * @param teacher the teacher asked on a miss (closed with this one)
   * @param fingerprint what identifies the teacher's function (e.g. {@link TeacherLogitCache#fingerprint(java.nio.file.Path)}
   *     of a SavedModel directory, or {@code FrozenTeacher.fingerprint()})
   * @param cache where logits are kept
   */
  public CachedTeacher(Teacher teacher, String fingerprint, TeacherLogitCache cache) {
    this.teacher = Objects.requireNonNull(teacher, "teacher");
    this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    this.cache = Objects.requireNonNull(cache, "cache");
  }

  @Override
  public int numClasses() {
    return teacher.numClasses();
  }

  @Override
  public long[] inputShape() {
    return teacher.inputShape();
  }

  @Override
  public float[] logits(Dataset data) {
    return cache.logits(fingerprint, data, teacher.numClasses(), () -> teacher.logits(data));
  }

  /**
   * The teacher's logits for streamed {@code data}, by global example index, from the cache's directory or filled
   * in one streaming pass ({@link TeacherLogitCache#table(String, RecordShards, int, int,
   * dev.tfkd.training.BatchLogits)}): the teacher of a run on data larger than memory.
   *
   * @param batchSize examples per teacher call in the filling pass
   * @return the logits, read from disk row by row
   * @throws IllegalStateException when the cache has no directory
   */
  public LogitTable logitTable(RecordShards data, int batchSize) {
    return cache.table(fingerprint, data, teacher.numClasses(), batchSize, teacher::logits);
  }

  /**
   * The teacher's logits for {@code data} in memory as a table: with a cache directory computed batch by batch into
   * the cache's file and read back from disk row by row, for a training set whose logits do not fit in memory.
   *
   * @param batchSize examples per teacher call
   * @return the logits
   */
  public LogitTable logitTable(Dataset data, int batchSize) {
    return cache.table(fingerprint, data, teacher.numClasses(), batchSize, teacher::logits);
  }

  /** The wrapped teacher, asked on a miss (owned by this one). */
  public Teacher uncached() {
    return teacher;
  }

  /** Whether the cache keeps its logits in files (so {@link #logitTable} tables are read from disk). */
  public boolean onDisk() {
    return cache.onDisk();
  }

  /**
   * Refused: the cache holds logits of whole datasets as they are stored, and a batch asked for one at a time is
   * an augmented one that never repeats. Ask the wrapped teacher instead.
   *
   * @throws UnsupportedOperationException always
   */
  @Override
  public float[] logits(float[] features, int n) {
    throw new UnsupportedOperationException(
        "cached teacher logits are of the un-augmented examples; with augmentation use the teacher itself ("
            + teacher.source() + "), which sees every augmented batch");
  }

  @Override
  public String source() {
    return teacher.source();
  }

  @Override
  public String outputReading() {
    return teacher.outputReading();
  }

  @Override
  public java.util.List<dev.tfkd.export.GraphSafety.Finding> unsafeOps() {
    return teacher.unsafeOps();
  }

  /** The cache's hit and miss counts, e.g. {@code "2 hits, 1 miss"}. */
  public String cacheStatistics() {
    return cache.hits() + " hits, " + cache.misses() + " misses";
  }

  @Override
  public void close() {
    teacher.close();
  }
}
