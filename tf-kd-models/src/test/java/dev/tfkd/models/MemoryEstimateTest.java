package dev.tfkd.models;

import dev.tfkd.training.MemoryEstimate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.Architecture;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import org.junit.jupiter.api.Test;

/** The memory estimate that refuses a model too large for the machine before anything is allocated. */
class MemoryEstimateTest {
  private static final long[] MNIST = {28, 28, 1};
  private static final TrainConfig ADAM_128 = new TrainConfig(1, 128, OptimizerConfig.adam(1e-3f), 1, 1);

  @Test
  void mlpEstimateMatchesTheFormula() {
    // 20 -> 30 -> 4: P = 20*30 + 30 + 30*4 + 4 = 754; per example the forward pass computes reshape 20, matmul 30,
    // bias 30, relu 30, matmul 4, bias 4 = 118 values.
    Architecture a = Mlp.of(20, 4, 30);
    MemoryEstimate adam = MemoryEstimate.of(a, 8, OptimizerConfig.adam(1e-3f));
    assertEquals(754, adam.parameters());
    assertEquals(2, adam.slotsPerParameter());
    assertEquals(Models.parameterCount(a), adam.parameters());
    assertTrue(adam.activations() >= 8 * 118 && adam.activations() <= 8 * 140, "activations " + adam.activations());
    assertEquals(4.0 * 754 * (1 + 1 + 2) + 8.0 * adam.activations(), adam.totalBytes(), 1e-6);
    assertEquals(1, MemoryEstimate.of(a, 8, OptimizerConfig.sgdCosine(0.1f, 0.9f, 0f)).slotsPerParameter());
    assertEquals(
        0, MemoryEstimate.of(a, 8, new OptimizerConfig(OptimizerConfig.Kind.SGD, 0.1f, 0f, 0f, OptimizerConfig.Schedule.CONSTANT)).slotsPerParameter());
    // Activations grow with the batch, parameters do not.
    MemoryEstimate bigger = MemoryEstimate.of(a, 80, OptimizerConfig.adam(1e-3f));
    assertEquals(10 * adam.activations(), bigger.activations(), adam.activations());
    assertEquals(adam.parameters(), bigger.parameters());
  }

  @Test
  void aHugeMlpIsRefusedWithBothFiguresWithoutAllocatingIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Models.forTraining("mlp:20000000", MNIST, 10, ADAM_128, 23_400_000_000L));
    String m = e.getMessage();
    assertTrue(m.startsWith("model mlp:20000000 needs about "), m);
    assertTrue(m.contains("parameters 63.6 GB for 15,900,000,010 weights"), m);
    assertTrue(m.contains("Adam slots 127.2 GB"), m);
    assertTrue(m.contains("at batch 128"), m);
    assertTrue(m.contains("but the machine has 23.4 GB available"), m);
    assertEquals(1, m.lines().count());
  }

  @Test
  void theZooAtBenchmarkSettingsFitsInFourGigabytes() {
    for (String spec : new String[] {"resnet8x4", "resnet32x4", "wrn_40_2", "vgg13", "mobilenetv2", "shufflenetv2"}) {
      MemoryEstimate m = MemoryEstimate.of(Models.create(spec, ModelsTest.CIFAR, 100), 64, OptimizerConfig.adam(1e-3f));
      assertTrue(m.totalBytes() > 1e6 && m.totalBytes() < 4e9, spec + ": " + m.describe());
    }
    Architecture a = Models.forTraining("mlp", MNIST, 10, ADAM_128, 1L << 30);
    assertEquals(Models.create("mlp", MNIST, 10), a);
  }

  @Test
  void modelSpecArgumentsHaveBounds() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Models.create("mlp:200000000", MNIST, 10));
    assertEquals("mlp: hidden widths must be in [1, 100000000], got 200000000", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("mlp:99999999999999", MNIST, 10));
    assertTrue(e.getMessage().contains("[1, 100000000]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("mlp:0", MNIST, 10));
    assertTrue(e.getMessage().contains("[1, 100000000]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("mlp:8,dropout=NaN", MNIST, 10));
    assertTrue(e.getMessage().contains("dropout must be in [0, 1)"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("mlp:" + "2,".repeat(1001) + "2", MNIST, 10));
    assertTrue(e.getMessage().contains("at most 1000 hidden layers"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("mobilenetv2:5", ModelsTest.CIFAR, 10));
    assertTrue(e.getMessage().contains("(0, 4]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Mlp.of(784, 10, 200_000_000));
    for (Models.Entry entry : Models.entries()) {
      if (entry.name().equals("mlp") || entry.name().equals("mobilenetv2")) {
        assertTrue(!entry.bounds().isEmpty(), entry.name());
      }
    }
  }
}
