package dev.tfkd.training;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfkd.data.Dataset;
import dev.tfkd.testing.Assertions;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

class BatchFeederTest {
  /** 103 examples of shape [2, 3] whose features encode their index, so every copy can be traced. */
  private static Dataset data() {
    int n = 103;
    float[] x = new float[n * 6];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 6; j++) {
        x[i * 6 + j] = i * 10 + j;
      }
      y[i] = i % 4;
    }
    return new Dataset("indexed", x, y, new long[] {2, 3}, 4, null);
  }

  private static float[] logits(int n) {
    float[] t = new float[n * 4];
    for (int i = 0; i < t.length; i++) {
      t[i] = i * 0.5f;
    }
    return t;
  }

  /** Every batch as (epoch, step, features, labels, teacher logits), copied out of the feeder's tensors. */
  private static List<Object[]> drain(Dataset d, float[] t, int prefetch) {
    List<Object[]> out = new ArrayList<>();
    try (BatchFeeder f = new BatchFeeder(new BatchFeeder.Source(d, t, 4), 16, 3, 77, prefetch)) {
      for (int s = 0; s < 3 * f.stepsPerEpoch(); s++) {
        BatchFeeder.Batch b = f.next();
        float[] x = new float[b.size() * 6];
        int[] y = new int[b.size()];
        float[] tl = new float[b.size() * 4];
        b.x().asRawTensor().data().asFloats().read(x);
        b.labels().asRawTensor().data().asInts().read(y);
        b.teacherLogits().asRawTensor().data().asFloats().read(tl);
        assertEquals(b.size(), b.x().shape().get(0));
        assertEquals(3, b.x().shape().numDimensions());
        out.add(new Object[] {b.epoch(), b.step(), x, y, tl});
        f.release(b);
      }
      assertThrows(NoSuchElementException.class, f::next);
    }
    return out;
  }

  @Test
  void prefetchFeedsExactlyTheSameBatchesAsAssemblingInline() {
    Dataset d = data();
    float[] t = logits(d.size());
    List<Object[]> inline = drain(d, t, 0);
    List<Object[]> ahead = drain(d, t, 3);
    assertEquals(inline.size(), ahead.size());
    for (int i = 0; i < inline.size(); i++) {
      assertEquals(inline.get(i)[0], ahead.get(i)[0]);
      assertEquals(inline.get(i)[1], ahead.get(i)[1]);
      assertAllClose((float[]) ahead.get(i)[2], (float[]) inline.get(i)[2], Assertions.EXACT);
      assertArrayEquals((int[]) inline.get(i)[3], (int[]) ahead.get(i)[3]);
      assertAllClose((float[]) ahead.get(i)[4], (float[]) inline.get(i)[4], Assertions.EXACT);
    }
  }

  @Test
  void everyEpochVisitsEveryExampleOnceWithItsLabelAndTeacherRow() {
    Dataset d = data();
    float[] t = logits(d.size());
    List<Object[]> batches = drain(d, t, 2);
    assertEquals(3 * 7, batches.size());
    int[][] seen = new int[3][d.size()];
    List<Integer> firstEpochOrder = new ArrayList<>();
    for (Object[] b : batches) {
      int epoch = (Integer) b[0];
      float[] x = (float[]) b[2];
      int[] y = (int[]) b[3];
      float[] tl = (float[]) b[4];
      for (int i = 0; i < y.length; i++) {
        int src = (int) (x[i * 6] / 10);
        assertEquals(src * 10 + 5, x[i * 6 + 5]);
        assertEquals(d.labels()[src], y[i]);
        assertEquals(t[src * 4 + 3], tl[i * 4 + 3]);
        seen[epoch][src]++;
        if (epoch == 0) {
          firstEpochOrder.add(src);
        }
      }
    }
    for (int[] e : seen) {
      for (int c : e) {
        assertEquals(1, c);
      }
    }
    // The order is the seeded shuffle, not the storage order.
    int[] expected = dev.tfkd.data.Splits.permutation(d.size(), new java.util.SplittableRandom(77 ^ 0x5DEECE66DL).split());
    assertArrayEquals(expected, firstEpochOrder.stream().mapToInt(Integer::intValue).toArray());
  }

  @Test
  void rejectsMisalignedTeacherLogits() {
    Dataset d = data();
    var e = assertThrows(IllegalArgumentException.class, () -> new BatchFeeder(new BatchFeeder.Source(d, new float[5], 4), 16, 1, 1, 0));
    assertEquals(true, e.getMessage().contains("teacher logits"), e.getMessage());
  }
}
