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
 */
public record Forward(Operand<TFloat32> logits, List<Op> updates, Map<String, Operand<TFloat32>> features) {
  /** Copies the update list and the feature points, adding {@value FeaturePoint#LOGITS} if it is missing. */
  public Forward {
    updates = List.copyOf(updates);
    Map<String, Operand<TFloat32>> f = new LinkedHashMap<>(features);
    f.putIfAbsent(FeaturePoint.LOGITS, logits);
    features = Collections.unmodifiableMap(f);
  }

  /**
   * A forward pass whose only feature point is its logits.
   *
   * @param logits the logits
   * @param updates the update ops
   */
  public Forward(Operand<TFloat32> logits, List<Op> updates) {
    this(logits, updates, Map.of());
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
