package dev.tfkd.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.FeaturePoint;
import dev.tfkd.graph.FeaturePoints;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Feature points of the zoo: their shapes before anything is built, against the shapes RepDistiller's PyTorch
 * models return for CIFAR inputs (32x32x3, 100 classes; read from its {@code models/resnet.py} and {@code
 * models/wrn.py}: {@code is_feat=True} gives [f0, f1, f2, f3, f4]).
 */
class FeaturePointsTest {
  private static final long[] CIFAR = {32, 32, 3};

  private static Map<String, long[]> shapes(String model) {
    Map<String, long[]> m = new LinkedHashMap<>();
    for (FeaturePoint p : Models.create(model, CIFAR, 100).featurePoints()) {
      m.put(p.name(), p.shape());
    }
    return m;
  }

  private static void assertShape(Map<String, long[]> m, String point, long... expected) {
    assertTrue(m.containsKey(point), point + " missing from " + m.keySet());
    assertArrayEquals(expected, m.get(point), point);
  }

  @Test
  void resnet32x4AndResnet8x4MatchRepDistiller() {
    for (String model : List.of("resnet32x4", "resnet8x4")) {
      Map<String, long[]> m = shapes(model);
      // RepDistiller resnet32x4 / resnet8x4: f0 [32, 32, 32], f1 [64, 32, 32], f2 [128, 16, 16], f3 [256, 8, 8],
      // f4 [256] (NCHW there, NHWC here).
      assertShape(m, "stem", 32, 32, 32);
      assertShape(m, "stage1", 32, 32, 64);
      assertShape(m, "stage1_pre", 32, 32, 64);
      assertShape(m, "stage2", 16, 16, 128);
      assertShape(m, "stage3", 8, 8, 256);
      assertShape(m, "stage3_pre", 8, 8, 256);
      assertShape(m, "pooled", 256);
      assertShape(m, "logits", 100);
      assertEquals(
          List.of("stem", "stage1_pre", "stage1", "stage2_pre", "stage2", "stage3_pre", "stage3", "pooled", "logits"),
          List.copyOf(m.keySet()));
    }
  }

  @Test
  void wrn40x2MatchesRepDistiller() {
    Map<String, long[]> m = shapes("wrn_40_2");
    // RepDistiller wrn_40_2: f0 [16, 32, 32], f1 [32, 32, 32], f2 [64, 16, 16], f3 [128, 8, 8], f4 [128].
    assertShape(m, "stem", 32, 32, 16);
    assertShape(m, "stage1", 32, 32, 32);
    assertShape(m, "stage2", 16, 16, 64);
    assertShape(m, "stage3", 8, 8, 128);
    assertShape(m, "stage1_pre", 32, 32, 32);
    assertShape(m, "stage2_pre", 16, 16, 64);
    assertShape(m, "stage3_pre", 8, 8, 128);
    assertShape(m, "pooled", 128);
  }

  static Stream<String> models() {
    return Models.entries().stream().map(Models.Entry::name);
  }

  /** Every model has a pooled vector the classifier reads and logits; convolutional models have stages. */
  @ParameterizedTest
  @MethodSource("models")
  void everyModelNamesItsPoints(String name) {
    Architecture a = Models.create(name, CIFAR, 10);
    List<FeaturePoint> points = a.featurePoints();
    assertEquals("logits", points.get(points.size() - 1).name());
    assertArrayEquals(new long[] {10}, points.get(points.size() - 1).shape());
    FeaturePoint pooled = FeaturePoints.of(a, "pooled");
    assertEquals(1, pooled.shape().length);
    if (!name.equals("mlp")) {
      assertTrue(points.stream().anyMatch(p -> p.name().equals("stage1") && p.isMap()), name + ": " + points);
      assertTrue(points.stream().anyMatch(p -> p.name().equals("stage2") && p.isMap()), name + ": " + points);
    }
    assertThrows(IllegalArgumentException.class, () -> FeaturePoints.of(a, "stage9"));
  }

  /**
   * OFD's margins need the BN before each pre-ReLU point: ResNets give the last block's second BN (as the reference
   * takes it), Wide ResNets the BN whose output the point is, VGGs the block's last BN; a model without batch
   * normalisation (the small CNN) gives none.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"resnet8", "resnet8x4", "wrn_16_2", "vgg8", "cnn"})
  void preReluPointsCarryTheirBatchNormParameters(String name) {
    Architecture a = Models.create(name, CIFAR, 10);
    try (org.tensorflow.Graph g = new org.tensorflow.Graph()) {
      org.tensorflow.op.Ops tf = org.tensorflow.op.Ops.create(g);
      var x = tf.placeholder(org.tensorflow.types.TFloat32.class,
          org.tensorflow.op.core.Placeholder.shape(org.tensorflow.ndarray.Shape.of(-1, 32, 32, 3)));
      dev.tfkd.graph.Forward f =
          a.build(tf, x, new dev.tfkd.graph.FrozenVariables(dev.tfkd.training.FrozenTeacher.initial(a, 1).weights()),
              Architecture.Mode.INFERENCE);
      List<String> pre = f.features().keySet().stream().filter(p -> p.endsWith("_pre")).toList();
      assertTrue(pre.size() >= 2, name + ": " + f.features().keySet());
      if (name.equals("cnn")) {
        assertTrue(f.batchNorms().isEmpty(), name + ": " + f.batchNorms().keySet());
        return;
      }
      assertEquals(pre, List.copyOf(f.batchNorms().keySet()), name);
      for (String p : pre) {
        long channels = f.features().get(p).shape().get(3);
        assertEquals(channels, f.batchNorms().get(p).gamma().shape().get(0), name + " " + p);
        assertEquals(channels, f.batchNorms().get(p).beta().shape().get(0), name + " " + p);
      }
      if (name.equals("resnet8")) {
        String gamma = f.batchNorms().get("stage3_pre").gamma().op().name();
        assertEquals("layer3_0_bn2_gamma", gamma);
      }
    }
  }
}
