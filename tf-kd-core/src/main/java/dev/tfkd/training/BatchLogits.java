package dev.tfkd.training;

/**
 * A teacher outside the training graph (e.g. a SavedModel in its own session) asked for its logits on every
 * training batch, after augmentation: {@link BatchFeeder} calls it on its batch-preparation thread with exactly the
 * features the student is then fed, so the teacher's work overlaps with the student's previous step.
 *
 * <p>Implementations must be deterministic (the same features give the same logits) for a resumed run to repeat
 * the uninterrupted one, and must allow calls from a thread other than the one that made them.
 */
@FunctionalInterface
public interface BatchLogits {
  /**
   * The teacher's logits for {@code n} examples stored row-major in {@code features}, {@code n x K} row-major.
   * {@code features} is the feeder's scratch array: read it during the call only.
   */
  float[] logits(float[] features, int n);
}
