package dev.tfkd.data;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.testing.Assertions;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SubsetsTest {
  private final Dataset data = new GaussianMixture(4, 3, 1.0, 7).sample(2000, 3, "d");

  @Test
  void stratifiedFractionKeepsClassProportionsAndIsSeeded() {
    Dataset s = Subsets.stratifiedFraction(data, 0.05, 11);
    int[] all = data.classCounts();
    int[] sub = s.classCounts();
    for (int c = 0; c < 4; c++) {
      assertEquals(Math.round(0.05 * all[c]), sub[c], "class " + c);
    }
    assertEquals(4, s.numClasses());
    assertTrue(s.hasPosterior());
    assertAllClose(Subsets.stratifiedFraction(data, 0.05, 11).features(), s.features(), Assertions.EXACT);
    assertTrue(!Arrays.equals(s.features(), Subsets.stratifiedFraction(data, 0.05, 12).features()));
  }

  @Test
  void tinyFractionStillKeepsOneOfEachClass() {
    int[] sub = Subsets.stratifiedFraction(data, 1e-6, 1).classCounts();
    assertArrayEquals(new int[] {1, 1, 1, 1}, sub);
  }

  @Test
  void splitIsDisjointAndCoversEverything() {
    Dataset[] parts = Subsets.stratifiedSplit(data, 0.2, 5);
    assertEquals(data.size(), parts[0].size() + parts[1].size());
    int[] all = data.classCounts();
    int[] val = parts[1].classCounts();
    for (int c = 0; c < 4; c++) {
      assertEquals(Math.round(0.2 * all[c]), val[c]);
    }
    double sumAll = 0, sumParts = 0;
    for (float f : data.features()) {
      sumAll += f;
    }
    for (Dataset p : parts) {
      for (float f : p.features()) {
        sumParts += f;
      }
    }
    assertAllClose(sumParts, sumAll, 1e-6, 1e-3);
  }

  @Test
  void omitAndOnlyClassesPartitionTheData() {
    Dataset without = Subsets.omitClasses(data, 1, 3);
    Dataset only = Subsets.onlyClasses(data, 1, 3);
    int[] all = data.classCounts();
    assertArrayEquals(new int[] {all[0], 0, all[2], 0}, without.classCounts());
    assertArrayEquals(new int[] {0, all[1], 0, all[3]}, only.classCounts());
    assertEquals(4, without.numClasses());
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> Subsets.stratifiedFraction(data, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> Subsets.stratifiedFraction(data, 1.5, 1));
    var e = assertThrows(IllegalArgumentException.class, () -> Subsets.omitClasses(data, 4));
    assertTrue(e.getMessage().contains("outside"), e.getMessage());
  }
}
