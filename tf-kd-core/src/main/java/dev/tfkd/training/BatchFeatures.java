package dev.tfkd.training;

import java.util.Map;

/**
 * A teacher outside the training graph that also serves feature points: asked on every training batch, after
 * augmentation, for its logits and the values of each of its points, which the student's training graph then reads
 * through placeholders ({@code teacher_features/NAME}, {@code [batch, shape...]}) as {@link FeatureInputs#teacher()}.
 * What a SavedModel teacher that is not rebuilt from the zoo gives feature losses (a third-party model's named
 * tensors, or a tf-kd export's {@code features} signature).
 *
 * <p>As for {@link BatchLogits}: deterministic, and callable from a thread other than the one that made it.
 */
public interface BatchFeatures extends BatchLogits {
  /**
   * The teacher's answer for one batch.
   *
   * @param logits {@code n x K} row-major
   * @param points each point's values by name, {@code n x} the product of its shape, row-major
   */
  record Answer(float[] logits, Map<String, float[]> points) {
    /** Copies the map (not the arrays). */
    public Answer {
      points = Map.copyOf(points);
    }
  }

  /**
   * The feature points served, by name, each with its shape per example (without the batch dimension).
   *
   * @return the shapes, in a stable order; empty when the teacher serves none
   */
  Map<String, long[]> featureShapes();

  /**
   * Logits and every point of {@link #featureShapes()} for {@code n} examples stored row-major in {@code features}
   * (the feeder's scratch array: read it during the call only).
   *
   * @param features the batch
   * @param n examples in it
   * @return the answer; the caller owns the arrays
   */
  Answer answer(float[] features, int n);

  /** The logits of {@link #answer}. */
  @Override
  default float[] logits(float[] features, int n) {
    return answer(features, n).logits();
  }
}
