package dev.tfkd.bench;

import dev.tfkd.data.Dataset;
import java.util.SplittableRandom;

/** Benchmark data like the peers': standard-normal features and uniform integer labels, seeded. */
public final class RandomData {
  private RandomData() {}

  /** {@code size} examples of {@code exampleShape} with labels in {@code [0, numClasses)}. */
  public static Dataset normal(int size, long[] exampleShape, int numClasses, long seed) {
    long e = 1;
    for (long d : exampleShape) {
      e *= d;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[Math.toIntExact(size * e)];
    for (int i = 0; i < x.length; i += 2) {
      // Box-Muller: two normals per pair of uniforms.
      double u1 = 1.0 - rng.nextDouble();
      double u2 = rng.nextDouble();
      double r = Math.sqrt(-2 * Math.log(u1));
      x[i] = (float) (r * Math.cos(2 * Math.PI * u2));
      if (i + 1 < x.length) {
        x[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
      }
    }
    int[] y = new int[size];
    for (int i = 0; i < size; i++) {
      y[i] = rng.nextInt(numClasses);
    }
    return new Dataset("random-normal", x, y, exampleShape.clone(), numClasses, null);
  }
}
