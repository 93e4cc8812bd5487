package dev.tfkd.data;

import java.util.SplittableRandom;

/**
 * Seeded shuffles and prefixes of an in-memory dataset. Stratified fractions and splits and class selections are in
 * {@link Subsets}.
 */
public final class Splits {
  private Splits() {}

  /** A permutation of {@code 0 .. n-1} drawn from {@code seed} (Fisher-Yates). */
  public static int[] permutation(int n, long seed) {
    return permutation(n, new SplittableRandom(seed));
  }

  /** A permutation of {@code 0 .. n-1} drawn from {@code rng} (Fisher-Yates, from the last position down). */
  public static int[] permutation(int n, SplittableRandom rng) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** {@code data} in a seeded random order. */
  public static Dataset shuffled(Dataset data, long seed) {
    return data.select(permutation(data.size(), seed), data.name());
  }

  /** The first {@code n} examples. */
  public static Dataset head(Dataset data, int n) {
    if (n < 0 || n > data.size()) {
      throw new IllegalArgumentException("cannot take " + n + " of " + data.size() + " examples of " + data.name());
    }
    return data.select(java.util.stream.IntStream.range(0, n).toArray(), data.name());
  }
}
