package dev.tfkd.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded shuffles, stratified splits and class selections of an in-memory dataset. */
public final class Splits {
  private Splits() {}

  /** Two disjoint parts of one dataset. */
  public record Split(Dataset first, Dataset second) {}

  /** A permutation of {@code 0 .. n-1} drawn from {@code seed} (Fisher-Yates). */
  public static int[] permutation(int n, long seed) {
    return permutation(n, new SplittableRandom(seed));
  }

  static int[] permutation(int n, SplittableRandom rng) {
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

  /**
   * Splits {@code data} so that each class is divided in the same proportion: {@code round(fraction * count)} of
   * each class's examples (chosen at random by the seed) go to the first part, the rest to the second. Each part
   * keeps the original order of its examples.
   *
   * @param fraction in [0, 1]
   */
  public static Split stratified(Dataset data, double fraction, long seed) {
    boolean[] first = stratifiedMask(data, fraction, seed);
    List<Integer> a = new ArrayList<>();
    List<Integer> b = new ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      (first[i] ? a : b).add(i);
    }
    return new Split(
        data.select(a.stream().mapToInt(Integer::intValue).toArray(), data.name() + "-part1"),
        data.select(b.stream().mapToInt(Integer::intValue).toArray(), data.name() + "-part2"));
  }

  /** The first part of {@link #stratified}: a class-balanced random {@code fraction} of {@code data}. */
  public static Dataset stratifiedFraction(Dataset data, double fraction, long seed) {
    boolean[] first = stratifiedMask(data, fraction, seed);
    int[] idx = java.util.stream.IntStream.range(0, data.size()).filter(i -> first[i]).toArray();
    return data.select(idx, data.name() + "-" + fraction);
  }

  private static boolean[] stratifiedMask(Dataset data, double fraction, long seed) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction must be in [0, 1], got " + fraction);
    }
    int k = data.numClasses();
    int[][] byClass = new int[k][];
    int[] counts = data.classCounts();
    int[] fill = new int[k];
    for (int c = 0; c < k; c++) {
      byClass[c] = new int[counts[c]];
    }
    for (int i = 0; i < data.size(); i++) {
      int c = data.labels()[i];
      byClass[c][fill[c]++] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    boolean[] first = new boolean[data.size()];
    for (int c = 0; c < k; c++) {
      // One generator per class, split off in class order, so the choice in a class does not depend on the others.
      int[] perm = permutation(counts[c], rng.split());
      int take = (int) Math.round(fraction * counts[c]);
      for (int j = 0; j < take; j++) {
        first[byClass[c][perm[j]]] = true;
      }
    }
    return first;
  }

  /**
   * {@code data} without the examples of the given classes. Labels and the class count are unchanged (the
   * omitted classes simply have no examples), so a model trained on the result still has K outputs.
   */
  public static Dataset withoutClasses(Dataset data, int... classes) {
    boolean[] drop = new boolean[data.numClasses()];
    for (int c : classes) {
      if (c < 0 || c >= data.numClasses()) {
        throw new IllegalArgumentException("class " + c + " is outside [0, " + data.numClasses() + ") of " + data.name());
      }
      drop[c] = true;
    }
    int[] idx = java.util.stream.IntStream.range(0, data.size()).filter(i -> !drop[data.labels()[i]]).toArray();
    return data.select(idx, data.name() + "-without" + Arrays.toString(classes).replace(" ", ""));
  }

  /** The first {@code n} examples. */
  public static Dataset head(Dataset data, int n) {
    if (n < 0 || n > data.size()) {
      throw new IllegalArgumentException("cannot take " + n + " of " + data.size() + " examples of " + data.name());
    }
    return data.select(java.util.stream.IntStream.range(0, n).toArray(), data.name());
  }
}
