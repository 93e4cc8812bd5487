package dev.tfkd.data;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.testing.Assertions;
import dev.tfkd.data.io.DataSources;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Normalisation, augmentation, splits and the shapes dataset (batching: training.BatchFeederTest). */
class PipelineTest {

  static Dataset counting(int n, int k) {
    // Example i: a 2x2x2 image whose values are i*10 + position, label i mod k.
    float[] x = new float[n * 8];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < 8; p++) {
        x[i * 8 + p] = i * 10 + p;
      }
      y[i] = i % k;
    }
    return new Dataset("counting", x, y, new long[] {2, 2, 2}, k, null);
  }

  @Test
  void normalisationUsesPerChannelTrainingStatistics() {
    // Two channels: channel 0 takes 1, 3; channel 1 takes 10, 10 (constant).
    Dataset train = new Dataset("t", new float[] {1, 10, 3, 10}, new int[] {0, 1}, new long[] {1, 1, 2}, 2, null);
    Normalization n = Normalization.fit(train);
    assertAllClose(n.mean(), new float[] {2, 10}, Assertions.EXACT);
    assertAllClose(n.std(), new float[] {1, 1}, Assertions.EXACT);
    assertAllClose(n.apply(train).features(), new float[] {-1, 0, 1, 0}, Assertions.EXACT);
    Dataset test = new Dataset("s", new float[] {5, 12}, new int[] {0}, new long[] {1, 1, 2}, 2, null);
    // The test split is transformed with the training statistics.
    assertAllClose(n.apply(test).features(), new float[] {3, 2}, Assertions.EXACT);
    Dataset other = new Dataset("o", new float[] {1, 2, 3}, new int[] {0}, new long[] {1, 1, 3}, 2, null);
    assertThrows(IllegalArgumentException.class, () -> n.apply(other));
  }

  @Test
  void flipMirrorsAndCropShiftsWithZeroPadding() {
    // One 1x3x1 image [1, 2, 3].
    long[] shape = {1, 3, 1};
    float[] scratch = new float[3];
    boolean sawFlip = false;
    boolean sawShift = false;
    SplittableRandom rng = new SplittableRandom(3);
    for (int t = 0; t < 50; t++) {
      float[] img = {1, 2, 3};
      new Augmentation(1, true).apply(img, 1, shape, rng, scratch);
      List<float[]> allowed = new ArrayList<>();
      for (float[] base : new float[][] {{1, 2, 3}, {3, 2, 1}}) {
        allowed.add(base);
        allowed.add(new float[] {base[1], base[2], 0}); // crop shifted right (dx = +1)
        allowed.add(new float[] {0, base[0], base[1]}); // dx = -1
      }
      // dy = +-1 on a one-row image reads padding only.
      allowed.add(new float[] {0, 0, 0});
      assertTrue(allowed.stream().anyMatch(a -> Arrays.equals(a, img)), Arrays.toString(img));
      sawFlip |= Arrays.equals(img, new float[] {3, 2, 1});
      sawShift |= img[0] == 0 || img[2] == 0;
    }
    assertTrue(sawFlip && sawShift);
    float[] same = {1, 2, 3};
    new Augmentation(0, false).apply(same, 1, shape, rng, scratch);
    assertAllClose(same, new float[] {1, 2, 3}, Assertions.EXACT);
  }

  @Test
  void stratifiedSplitsKeepClassProportions() {
    Dataset d = counting(100, 4);
    // Subsets.stratifiedSplit returns [rest, fraction]: the fraction is the second element.
    Dataset[] s = Subsets.stratifiedSplit(d, 0.2, 9);
    assertArrayEquals(new int[] {5, 5, 5, 5}, s[1].classCounts());
    assertArrayEquals(new int[] {20, 20, 20, 20}, s[0].classCounts());
    // Disjoint and complete: every example appears exactly once.
    List<Float> firsts = new ArrayList<>();
    for (Dataset part : List.of(s[1], s[0])) {
      for (int i = 0; i < part.size(); i++) {
        firsts.add(part.features()[i * 8]);
      }
    }
    assertEquals(100, firsts.stream().distinct().count());
    // Seeded: the same seed gives the same split, another seed another one.
    assertAllClose(Subsets.stratifiedSplit(d, 0.2, 9)[1].features(), s[1].features(), Assertions.EXACT);
    assertFalse(Arrays.equals(s[1].features(), Subsets.stratifiedSplit(d, 0.2, 10)[1].features()));
    Dataset frac = Subsets.stratifiedFraction(d, 0.5, 1);
    assertArrayEquals(new int[] {13, 13, 13, 13}, frac.classCounts()); // round(12.5) = 13 of each 25
    Dataset without = Subsets.omitClasses(d, 1, 3);
    assertArrayEquals(new int[] {25, 0, 25, 0}, without.classCounts());
    assertEquals(4, without.numClasses());
    assertThrows(IllegalArgumentException.class, () -> Subsets.omitClasses(d, 4));
    assertThrows(IllegalArgumentException.class, () -> Subsets.stratifiedSplit(d, 1.5, 1));
  }

  @Test
  void shuffleIsASeededPermutation() {
    Dataset d = counting(50, 5);
    Dataset a = Splits.shuffled(d, 4);
    assertArrayEquals(a.labels(), Splits.shuffled(d, 4).labels());
    assertNotEquals(Arrays.toString(d.features()), Arrays.toString(a.features()));
    float[] sorted = a.features().clone();
    Arrays.sort(sorted);
    float[] orig = d.features().clone();
    Arrays.sort(orig);
    assertAllClose(sorted, orig, Assertions.EXACT);
  }

  @Test
  void shapesAreSeededBalancedAndInRange() {
    Shapes s = new Shapes(32, 32, 3, 10);
    Dataset a = s.sample(200, 5, "a");
    assertAllClose(s.sample(200, 5, "b").features(), a.features(), Assertions.EXACT);
    assertArrayEquals(new int[] {20, 20, 20, 20, 20, 20, 20, 20, 20, 20}, a.classCounts());
    for (float v : a.features()) {
      assertTrue(v >= 0 && v <= 1);
    }
    assertArrayEquals(new long[] {28, 28, 1}, DataSources.load("shapes28", null, DataSources.Split.TEST).exampleShape());
  }
}
