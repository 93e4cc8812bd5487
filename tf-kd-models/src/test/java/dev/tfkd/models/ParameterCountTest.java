package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.testing.Assertions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Parameter counts of the zoo for CIFAR-100 (32x32x3 inputs, 100 classes) against the reference zoo's.
 *
 * <p>The reference numbers are exact counts of trainable parameters (conv kernels, conv biases where the reference
 * has them, batch-norm scales and shifts, dense kernels and biases) worked out by hand from the RepDistiller /
 * mdistiller PyTorch definitions used by the CRD and DKD tables ({@code resnet.py}, {@code wrn.py},
 * {@code vgg.py} with BN, {@code mobilenetv2.py} with T=6 and width 0.5, {@code ShuffleNetv2.py} net size 1). They
 * agree with the rounded counts the papers print: ResNet-56 0.86 M, ResNet-110 1.74 M, ResNet-8x4 1.23 M,
 * ResNet-32x4 7.43 M, WRN-40-2 2.26 M, WRN-16-2 0.70 M, WRN-40-1 0.57 M, VGG-13 9.46 M, VGG-8 3.96 M (3.965 M),
 * MobileNetV2 0.81 M, ShuffleNetV2 1.36 M.
 */
class ParameterCountTest {
  static final Map<String, Long> REFERENCE = new LinkedHashMap<>();

  static {
    REFERENCE.put("resnet8", 83_892L);
    REFERENCE.put("resnet14", 181_108L);
    REFERENCE.put("resnet20", 278_324L);
    REFERENCE.put("resnet32", 472_756L);
    REFERENCE.put("resnet44", 667_188L);
    REFERENCE.put("resnet56", 861_620L);
    REFERENCE.put("resnet110", 1_736_564L);
    REFERENCE.put("resnet8x4", 1_233_540L);
    REFERENCE.put("resnet32x4", 7_433_860L);
    REFERENCE.put("wrn_16_1", 180_916L);
    REFERENCE.put("wrn_16_2", 703_284L);
    REFERENCE.put("wrn_40_1", 569_780L);
    REFERENCE.put("wrn_40_2", 2_255_156L);
    REFERENCE.put("vgg8", 3_965_028L);
    REFERENCE.put("vgg11", 9_277_284L);
    REFERENCE.put("vgg13", 9_462_180L);
    REFERENCE.put("mobilenetv2", 812_836L);
    REFERENCE.put("shufflenetv2", 1_356_104L);
  }

  /** Counts the papers print, in millions, rounded to two decimals. */
  static final Map<String, Double> PUBLISHED =
      Map.of(
          "resnet56", 0.86, "resnet110", 1.74, "resnet8x4", 1.23, "resnet32x4", 7.43, "wrn_40_2", 2.26,
          "wrn_16_2", 0.70, "wrn_40_1", 0.57, "vgg13", 9.46, "mobilenetv2", 0.81, "shufflenetv2", 1.36);

  @Test
  void cifar100CountsMatchTheReferenceZooWithinOnePercent() {
    for (Map.Entry<String, Long> e : REFERENCE.entrySet()) {
      long count = Models.parameterCount(Models.create(e.getKey(), new long[] {32, 32, 3}, 100));
      assertAllClose(count, e.getValue(), 0.01, 0, e.getKey() + " parameters against the reference zoo");
      Double published = PUBLISHED.get(e.getKey());
      if (published != null) {
        assertAllClose(count / 1e6, published, 0, 0.01, e.getKey() + " against the published count");
      }
    }
  }

  @Test
  void everyRegisteredModelExceptTheSimpleOnesHasAReference() {
    for (Models.Entry e : Models.entries()) {
      if (!e.name().equals("mlp") && !e.name().equals("lenet5") && !e.name().equals("cnn")) {
        assertTrue(REFERENCE.containsKey(e.name()), e.name() + " has no reference count");
      }
      // The registry's copy, shown by tfkd models, agrees with this table.
      assertEquals(REFERENCE.getOrDefault(e.name(), 0L), e.cifar100Reference(), e.name());
    }
  }

  @Test
  void simpleModelsHaveTheirTextbookCounts() {
    // LeNet-5 on MNIST: 156 + 2,416 + 48,120 + 10,164 + 850.
    assertEquals(61_706L, Models.parameterCount(Models.create("lenet5", new long[] {28, 28, 1}, 10)));
    // The benchmark CNN on MNIST: 320 + 18,496 + 12,544*10 + 10.
    assertEquals(144_266L, Models.parameterCount(Models.create("cnn", new long[] {28, 28, 1}, 10)));
    // 784-512-512-10.
    assertEquals(669_706L, Models.parameterCount(Models.create("mlp:512,512", new long[] {28, 28, 1}, 10)));
  }

  @Test
  void widthMultiplierScalesMobileNet() {
    long half = Models.parameterCount(Models.create("mobilenetv2", new long[] {32, 32, 3}, 100));
    long full = Models.parameterCount(Models.create("mobilenetv2:1.0", new long[] {32, 32, 3}, 100));
    assertEquals(812_836L, half);
    assertTrue(full > 2 * half, "width 1.0 has " + full);
  }

  @Test
  void countsDoNotDependOnTheImageSize() {
    for (String name : new String[] {"resnet20", "wrn_16_2", "vgg8", "mobilenetv2", "shufflenetv2"}) {
      assertEquals(
          Models.parameterCount(Models.create(name, new long[] {32, 32, 3}, 100)),
          Models.parameterCount(Models.create(name, new long[] {64, 48, 3}, 100)),
          name);
    }
  }
}
