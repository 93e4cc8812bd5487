package dev.tfkd.graph;

import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** Small helpers that copy Java arrays into new tensors. The caller owns and closes what they return. */
public final class Tensors {
  private Tensors() {}

  /** A float tensor of {@code shape} holding {@code src[offset .. offset + length)}. */
  public static TFloat32 floats(Shape shape, float[] src, int offset, int length) {
    if (shape.size() != length) {
      throw new IllegalArgumentException("shape " + shape + " holds " + shape.size() + " values, not " + length);
    }
    TFloat32 t = TFloat32.tensorOf(shape);
    t.asRawTensor().data().asFloats().write(src, offset, length);
    return t;
  }

  /** An int tensor of {@code shape} holding {@code src[offset .. offset + length)}. */
  public static TInt32 ints(Shape shape, int[] src, int offset, int length) {
    if (shape.size() != length) {
      throw new IllegalArgumentException("shape " + shape + " holds " + shape.size() + " values, not " + length);
    }
    TInt32 t = TInt32.tensorOf(shape);
    t.asRawTensor().data().asInts().write(src, offset, length);
    return t;
  }

  /** A float scalar. */
  public static TFloat32 scalar(float v) {
    return TFloat32.scalarOf(v);
  }
}
