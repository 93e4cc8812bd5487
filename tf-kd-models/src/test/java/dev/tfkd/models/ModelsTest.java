package dev.tfkd.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Specs: names, arguments and their mistakes. */
class ModelsTest {
  static final long[] CIFAR = {32, 32, 3};

  @Test
  void mlpTakesWidthsAndDropout() {
    Mlp m = (Mlp) Models.create("mlp:64,32,dropout=0.25", new long[] {20}, 3);
    assertArrayEquals(new int[] {64, 32}, m.hidden());
    assertEquals(0.25f, m.dropout());
    assertArrayEquals(new int[] {256, 256}, ((Mlp) Models.create("mlp", new long[] {20}, 3)).hidden());
    assertThrows(IllegalArgumentException.class, () -> Models.create("mlp:64,dropout=1.5", new long[] {20}, 3));
    assertThrows(IllegalArgumentException.class, () -> Models.create("mlp:wide", new long[] {20}, 3));
  }

  @Test
  void namesAreCaseInsensitiveAndMistakesAreClear() {
    assertEquals("resnet56", Models.create("ResNet56", CIFAR, 100).name());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Models.create("resnet57", CIFAR, 100));
    assertTrue(e.getMessage().contains("unknown model 'resnet57'") && e.getMessage().contains("wrn_40_2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("resnet8:2", CIFAR, 100));
    assertTrue(e.getMessage().contains("takes no arguments"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("mobilenetv2:half", CIFAR, 100));
    assertTrue(e.getMessage().contains("width multiplier"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("resnet20", new long[] {784}, 10));
    assertTrue(e.getMessage().contains("[H, W, C]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Models.create("lenet5", new long[] {8, 8, 1}, 10));
    assertTrue(e.getMessage().contains("at least 12x12"), e.getMessage());
  }

  @Test
  void everyModelTakesGreyAndNonSquareImages() {
    for (Models.Entry entry : Models.entries()) {
      long n = Models.parameterCount(Models.create(entry.name(), new long[] {28, 20, 1}, 10));
      assertTrue(n > 0, entry.name());
    }
  }
}
