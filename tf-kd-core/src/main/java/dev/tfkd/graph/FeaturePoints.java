package dev.tfkd.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** The feature points of an architecture, with their shapes, known before any model is built. */
public final class FeaturePoints {
  private FeaturePoints() {}

  /**
   * The feature points of {@code architecture}, in the order its forward pass reaches them, read from the static
   * shapes of an inference build in a scratch graph whose weights are placeholders (nothing is allocated).
   *
   * @param architecture the architecture
   * @return its points ({@link FeaturePoint}), the logits last
   */
  public static List<FeaturePoint> of(Architecture architecture) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x =
          tf.placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(architecture.inputShape())));
      Forward f = architecture.build(tf, x, new ParameterCount.Counting(), Architecture.Mode.INFERENCE);
      List<FeaturePoint> out = new ArrayList<>();
      for (Map.Entry<String, Operand<TFloat32>> e : f.features().entrySet()) {
        long[] s = e.getValue().shape().asArray();
        out.add(new FeaturePoint(e.getKey(), Arrays.copyOfRange(s, 1, s.length)));
      }
      return List.copyOf(out);
    }
  }

  /**
   * The point {@code name} of {@code architecture}.
   *
   * @param architecture the architecture
   * @param name the point's name
   * @return the point
   * @throws IllegalArgumentException naming the points it has, when it has none of that name
   */
  public static FeaturePoint of(Architecture architecture, String name) {
    List<FeaturePoint> all = of(architecture);
    return all.stream()
        .filter(p -> p.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    architecture.name() + " has no feature point '" + name + "'; it has: "
                        + String.join(", ", all.stream().map(FeaturePoint::name).toList())));
  }
}
