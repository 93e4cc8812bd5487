package dev.tfkd.cli;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.Subsets;

/**
 * Resolves the training and evaluation data of a command: a built-in name gives its own train and test splits; a
 * file needs {@code --test}, or a held-out part of it is split off; {@code --validation-split} evaluates on a
 * stratified part of the training data instead of the test data (for choosing settings without touching the
 * test split).
 */
final class DataOptions {
  private DataOptions() {}

  /** {@code [train, eval]}. */
  static Dataset[] load(String trainSpec, String testSpec, double validationSplit, double testFraction) {
    if (validationSplit < 0 || validationSplit >= 1) {
      throw new IllegalArgumentException("--validation-split must be in [0, 1), got " + validationSplit);
    }
    boolean builtin = DataSources.builtinNames().contains(trainSpec);
    Dataset train = DataSources.load(trainSpec, null, DataSources.Split.TRAIN);
    Dataset test;
    if (testSpec != null) {
      test = DataSources.load(testSpec, null, DataSources.Split.TEST);
    } else if (builtin) {
      test = DataSources.load(trainSpec, null, DataSources.Split.TEST);
    } else {
      if (!(testFraction > 0 && testFraction < 1)) {
        throw new IllegalArgumentException("--test-fraction must be in (0, 1), got " + testFraction);
      }
      // A file with no separate test file: hold out a fixed stratified part (seed 0, the same for every run).
      Dataset[] parts = Subsets.stratifiedSplit(train, testFraction, 0);
      train = renamed(parts[0], trainSpec + " (held-out test removed)");
      test = renamed(parts[1], trainSpec + " (held-out test " + testFraction + ")");
    }
    if (validationSplit > 0) {
      // The validation part is fixed (seed 1) and disjoint from the test data, which is then not used at all.
      Dataset[] parts = Subsets.stratifiedSplit(train, validationSplit, 1);
      return parts;
    }
    return new Dataset[] {train, test};
  }

  private static Dataset renamed(Dataset d, String name) {
    return new Dataset(name, d.features(), d.labels(), d.exampleShape(), d.numClasses(), d.posterior());
  }
}
