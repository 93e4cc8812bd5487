package dev.tfkd.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Subsets of a dataset for the experiment protocols: a stratified fraction (few-shot students), a stratified
 * train/validation split, and the data without some classes (zero-shot students). Every subset keeps the
 * dataset's class count K, so models trained on it still have K outputs. Order within a subset follows the
 * original order, so the same seed always gives the same subset.
 */
public final class Subsets {
  private Subsets() {}

  /**
   * A stratified random fraction: from each class with {@code c} examples, {@code max(1, round(fraction * c))}
   * of them (none from a class that has none), drawn with {@code seed}.
   *
   * @param fraction in (0, 1]
   */
  public static Dataset stratifiedFraction(Dataset data, double fraction, long seed) {
    return data.select(stratifiedIndices(data, fraction, seed, true), data.name() + "-frac" + fraction);
  }

  /**
   * A stratified split into a training part and a validation part holding {@code validationFraction} of each
   * class (at least one example of each class with two or more).
   *
   * @return {@code [train, validation]}
   */
  public static Dataset[] stratifiedSplit(Dataset data, double validationFraction, long seed) {
    int[] val = stratifiedIndices(data, validationFraction, seed, false);
    boolean[] inVal = new boolean[data.size()];
    for (int i : val) {
      inVal[i] = true;
    }
    int[] rest = new int[data.size() - val.length];
    int r = 0;
    for (int i = 0; i < data.size(); i++) {
      if (!inVal[i]) {
        rest[r++] = i;
      }
    }
    return new Dataset[] {data.select(rest, data.name() + "-train"), data.select(val, data.name() + "-validation")};
  }

  /** The examples whose label is not in {@code classes}; K is unchanged. */
  public static Dataset omitClasses(Dataset data, int... classes) {
    boolean[] omit = classMask(data, classes);
    return data.select(indicesWhere(data, omit, false), data.name() + "-without" + Arrays.toString(classes));
  }

  /** The examples whose label is in {@code classes}; K is unchanged. */
  public static Dataset onlyClasses(Dataset data, int... classes) {
    boolean[] keep = classMask(data, classes);
    return data.select(indicesWhere(data, keep, true), data.name() + "-only" + Arrays.toString(classes));
  }

  private static boolean[] classMask(Dataset data, int[] classes) {
    boolean[] mask = new boolean[data.numClasses()];
    for (int c : classes) {
      if (c < 0 || c >= data.numClasses()) {
        throw new IllegalArgumentException(
            "class " + c + " is outside [0, " + data.numClasses() + ") of " + data.name());
      }
      mask[c] = true;
    }
    return mask;
  }

  private static int[] indicesWhere(Dataset data, boolean[] mask, boolean value) {
    int[] labels = data.labels();
    return java.util.stream.IntStream.range(0, labels.length).filter(i -> mask[labels[i]] == value).toArray();
  }

  private static int[] stratifiedIndices(Dataset data, double fraction, long seed, boolean atLeastOne) {
    if (!(fraction > 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction must be in (0, 1], got " + fraction);
    }
    List<List<Integer>> byClass = new ArrayList<>();
    for (int c = 0; c < data.numClasses(); c++) {
      byClass.add(new ArrayList<>());
    }
    for (int i = 0; i < data.size(); i++) {
      byClass.get(data.labels()[i]).add(i);
    }
    boolean[] chosen = new boolean[data.size()];
    SplittableRandom root = new SplittableRandom(seed);
    int total = 0;
    for (List<Integer> members : byClass) {
      SplittableRandom rng = root.split();
      int c = members.size();
      int take = (int) Math.round(fraction * c);
      if (c > 0 && take == 0 && (atLeastOne || c > 1)) {
        take = 1;
      }
      if (!atLeastOne && take == c && c > 1) {
        take = c - 1; // a validation split must leave something to train on
      }
      // Partial Fisher-Yates: the first `take` positions become a uniform sample.
      Integer[] a = members.toArray(new Integer[0]);
      for (int i = 0; i < take; i++) {
        int j = i + rng.nextInt(c - i);
        Integer t = a[i];
        a[i] = a[j];
        a[j] = t;
        chosen[a[i]] = true;
      }
      total += take;
    }
    int[] out = new int[total];
    int o = 0;
    for (int i = 0; i < data.size(); i++) {
      if (chosen[i]) {
        out[o++] = i;
      }
    }
    return out;
  }
}
