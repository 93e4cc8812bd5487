package dev.tfkd.graph;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.types.TFloat32;

/**
 * What {@link Architecture#build} adds to a graph.
 *
 * @param logits {@code [batch, K]} unnormalised scores
 * @param updates ops that must run with every training step (moving-average updates); empty in inference mode
 * @param features the model's named feature points ({@link FeaturePoint}), in the order the forward pass reaches
 *     them; always holds {@value FeaturePoint#LOGITS}
 * @param batchNorms the scale and shift of the batch normalisation that produces a pre-ReLU point, by the point's
 *     name, for the points that have one (empty for models without batch normalisation)
 */
public record Forward(
    Operand<TFloat32> logits,
    List<Op> updates,
    Map<String, Operand<TFloat32>> features,
    Map<String, BatchNormParameters> batchNorms) {
  /**
   * Copies the update list, the feature points and the batch-norm parameters, adding {@value FeaturePoint#LOGITS} if
   * it is missing; every batch-norm entry names a feature point.
   */
  public Forward {
    updates = List.copyOf(updates);
    Map<String, Operand<TFloat32>> f = new LinkedHashMap<>(features);
    f.putIfAbsent(FeaturePoint.LOGITS, logits);
    features = Collections.unmodifiableMap(f);
    batchNorms = Collections.unmodifiableMap(new LinkedHashMap<>(batchNorms));
    for (String name : batchNorms.keySet()) {
      if (!features.containsKey(name)) {
        throw new IllegalArgumentException("batch-norm parameters for " + name + ", which is not a feature point");
      }
    }
  }

  /**
   * A forward pass whose feature points carry no batch-norm parameters.
   *
   * @param logits the logits
   * @param updates the update ops
   * @param features the feature points
   */
  public Forward(Operand<TFloat32> logits, List<Op> updates, Map<String, Operand<TFloat32>> features) {
    this(logits, updates, features, Map.of());
  }

  /**
   * A forward pass whose only feature point is its logits.
   *
   * @param logits the logits
   * @param updates the update ops
   */
  public Forward(Operand<TFloat32> logits, List<Op> updates) {
    this(logits, updates, Map.of(), Map.of());
  }

  /** A forward pass with no update ops. */
  public static Forward of(Operand<TFloat32> logits) {
    return new Forward(logits, List.of());
  }

  /**
   * The feature point {@code name}.
   *
   * @param name a feature point's name, e.g. {@code stage3}
   * @return its tensor, {@code [batch, ...]}
   * @throws IllegalArgumentException naming the points the model has, when it has no point {@code name}
   */
  public Operand<TFloat32> feature(String name) {
    Operand<TFloat32> f = features.get(name);
    if (f == null) {
      throw new IllegalArgumentException("no feature point '" + name + "'; this model has: " + String.join(", ", features.keySet()));
    }
    return f;
  }
}
