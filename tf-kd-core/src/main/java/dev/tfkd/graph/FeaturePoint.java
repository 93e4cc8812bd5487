package dev.tfkd.graph;

import java.util.Arrays;
import java.util.Objects;

/**
 * A named intermediate tensor of a model that feature distillation can read, with its shape for one example.
 *
 * <p>The zoo names its points alike in every model, so a method can name a point without knowing the network:
 *
 * <ul>
 *   <li>{@value #STEM}: the stem's output (after its ReLU where it has one; a pre-activation Wide ResNet's stem is
 *       its first convolution alone);
 *   <li>{@code stageN} ({@code N} from 1): the output of stage N as the next stage reads it, after the stage's final
 *       ReLU; {@code stageN_pre}: the same value before that ReLU. Pre-activation Wide ResNets end a stage with a
 *       residual sum and no ReLU: there {@code stageN} is that sum (the feature RepDistiller returns) and {@code
 *       stageN_pre} is its batch normalisation by the next block (or the final BN) that the following ReLU reads
 *       (RepDistiller's {@code preact=True}). Stages that end linearly (MobileNetV2's bottlenecks, ShuffleNetV2's
 *       channel shuffle) have no {@code _pre} point. Where a batch normalisation produces {@code stageN_pre}, the
 *       model's forward pass also gives its scale and shift ({@link Forward#batchNorms()}, {@link
 *       BatchNormParameters}), from which OFD computes its margins;
 *   <li>{@value #POOLED}: the vector the classifier reads ({@code [batch, C]});
 *   <li>{@value #LOGITS}: the logits.
 * </ul>
 *
 * Shapes are known before any graph is built: {@link FeaturePoints#of(Architecture)}.
 *
 * @param name the point's name
 * @param shape the shape of one example's value, without the batch dimension ({@code [H, W, C]} or {@code [C]})
 */
public record FeaturePoint(String name, long[] shape) {
  /** The stem's output. */
  public static final String STEM = "stem";
  /** The vector the classifier reads. */
  public static final String POOLED = "pooled";
  /** The logits. */
  public static final String LOGITS = "logits";

  /** Validates and copies the shape. */
  public FeaturePoint {
    Objects.requireNonNull(name, "name");
    shape = shape.clone();
  }

  /**
   * The shape of one example's value.
   *
   * @return a copy of the shape
   */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Whether the point is a feature map ({@code [H, W, C]}).
   *
   * @return true for rank-3 points
   */
  public boolean isMap() {
    return shape.length == 3;
  }

  /**
   * The name of stage {@code n}'s output.
   *
   * @param n the stage, from 1
   * @return {@code stageN}
   */
  public static String stage(int n) {
    return "stage" + n;
  }

  /**
   * The name of stage {@code n}'s output before its final ReLU.
   *
   * @param n the stage, from 1
   * @return {@code stageN_pre}
   */
  public static String stagePre(int n) {
    return "stage" + n + "_pre";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FeaturePoint p && p.name.equals(name) && Arrays.equals(p.shape, shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  /** {@code stage3 [8, 8, 256]}. */
  @Override
  public String toString() {
    return name + " " + Arrays.toString(shape);
  }
}
