package dev.tfkd.data.io;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Reads the real MNIST test split when the shared copy is present; skips otherwise. */
class MnistTest {
  @Test
  void readsTheRealMnistTestSplit() {
    Path dir = SharedData.mnist10k().orElse(null);
    Assumptions.assumeTrue(dir != null, "shared/datasets/mnist-10k is not present");
    Dataset d = DataSources.load(dir.resolve("t10k-images-idx3-ubyte.gz").toString(), null, DataSources.Split.TEST);
    assertEquals(10_000, d.size());
    assertArrayEquals(new long[] {28, 28, 1}, d.exampleShape());
    assertEquals(10, d.numClasses());
    // The class counts the dataset's README documents.
    assertArrayEquals(new int[] {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, d.classCounts());
    float max = 0;
    double sum = 0;
    for (float v : d.features()) {
      assertTrue(v >= 0 && v <= 1);
      max = Math.max(max, v);
      sum += v;
    }
    assertEquals(1f, max);
    // MNIST's mean pixel intensity is about 0.13.
    assertAllClose(sum / d.features().length, 0.13, 0, 0.01);
    // The folder form finds the t10k files for the test split.
    assertEquals(10_000, DataSources.load(dir.toString(), null, DataSources.Split.TEST).size());
  }
}
