package dev.tfkd.cli;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import picocli.CommandLine.Option;

/** The dataset a model is applied to ({@code predict}, {@code evaluate}): {@code --data}, its format and split. */
final class InputData {
  @Option(names = "--data", required = true, paramLabel = "PATH|NAME", description = "Dataset: a file or a built-in name.")
  String data;

  @Option(names = "--data-format", paramLabel = "FORMAT", description = "Data file format (default: detected).")
  String dataFormat;

  @Option(names = "--split", defaultValue = "TEST", description = "Split of a built-in dataset: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  DataSources.Split split;

  Dataset load() {
    return DataSources.load(data, dataFormat, split);
  }

  /** The data for a model taking {@code exampleSize} values, labelled or not ({@link DataSources#loadExamples}). */
  dev.tfkd.data.Examples loadExamples(int exampleSize, boolean allowNonFinite) {
    return DataSources.loadExamples(data, dataFormat, split, exampleSize, allowNonFinite);
  }
}
