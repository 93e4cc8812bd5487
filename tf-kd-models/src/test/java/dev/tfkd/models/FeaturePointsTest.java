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
}
