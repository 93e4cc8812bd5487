package dev.tfkd.graph;

import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The scale and shift of the batch normalisation that produces a pre-ReLU feature point ({@code stageN_pre}, see
 * {@link FeaturePoint}), as graph values: {@code y = gamma * (x - mean) / sqrt(var + eps) + beta}, so the point's
 * values are distributed about as {@code N(beta, gamma^2)} per channel. Methods that need that distribution read
 * it here (OFD's margin, {@code E[y | y < 0]}). A model gives these for the points whose value is a batch
 * normalisation's output (or, in a ResNet, the residual sum whose last branch ends in one, as the reference
 * implementations use it); a point without them has none ({@link Forward#batchNorms()}).
 *
 * @param gamma the per-channel scale {@code [C]}
 * @param beta the per-channel shift {@code [C]}
 */
public record BatchNormParameters(Operand<TFloat32> gamma, Operand<TFloat32> beta) {
  /** Checks that both are given. */
  public BatchNormParameters {
    Objects.requireNonNull(gamma, "gamma");
    Objects.requireNonNull(beta, "beta");
  }
}
