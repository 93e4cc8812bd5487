package dev.tfkd.graph;

import dev.tfkd.data.Dataset;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.types.TFloat32;

/**
 * The one batched feed-and-fetch loop: feeds a dataset's examples to a graph's input in batches and gathers one
 * float output row per example. Every forward pass over a whole dataset (inference models, frozen teachers,
 * validation, hooks) runs through it. The batch tensors are created and closed here; the session stays the
 * caller's.
 */
public final class Batches {
  /** Features per batch at most (4 Mi floats, 16 MB), so large examples get small batches. */
  private static final int FLOATS_PER_BATCH = 1 << 22;

  private Batches() {}

  /** A batch size for examples of {@code exampleSize} floats: at most 1,024 examples or 4 Mi floats. */
  public static int defaultBatchSize(int exampleSize) {
    return Math.max(1, Math.min(1024, FLOATS_PER_BATCH / Math.max(1, exampleSize)));
  }

  /**
   * Runs {@code output} ({@code [batch, width]}) on every example of {@code data} fed to {@code input}, {@code
   * batchSize} examples at a time.
   *
   * @return {@code data.size() x width} values, row-major, in the data's order
   */
  public static float[] logits(
      Session session, Operand<TFloat32> input, Operand<TFloat32> output, int width, Dataset data, int batchSize) {
    if (batchSize < 1 || width < 1) {
      throw new IllegalArgumentException("batch size and width must be >= 1, got " + batchSize + " and " + width);
    }
    int e = data.exampleSize();
    long[] shape = data.exampleShape();
    float[] out = new float[Math.multiplyExact(data.size(), width)];
    for (int start = 0; start < data.size(); start += batchSize) {
      int n = Math.min(batchSize, data.size() - start);
      try (TFloat32 x = Tensors.floats(InferenceModel.batchShape(shape, n), data.features(), start * e, n * e);
          Result r = session.runner().feed(input, x).fetch(output).run()) {
        ((TFloat32) r.get(0)).asRawTensor().data().asFloats().read(out, start * width, n * width);
      }
    }
    return out;
  }
}
