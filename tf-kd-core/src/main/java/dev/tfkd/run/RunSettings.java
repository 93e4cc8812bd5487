package dev.tfkd.run;

import dev.tfkd.config.RunConfig;
import dev.tfkd.training.EarlyStopping;
import java.nio.file.Path;
import java.util.List;

/**
 * The resolved options of one run, as its lifecycle needs them.
 *
 * @param config the run's configuration as saved in the run directory and recorded in the export's manifest
 * @param runDirectory the run directory
 * @param resume continue the run in {@code runDirectory}
 * @param exportRoot the export root, or null: no export
 * @param exportName the model's name under the export root (and in the results)
 * @param threads TensorFlow threads for scoring and export
 * @param listeners per-phase listeners (e.g. progress)
 * @param earlyStopping early stopping, or null
 * @param classNames the name of each class, in label order, for the export (classify outputs, manifest), or null
 *     for {@code "0"} to {@code "K-1"}
 * @param allowSignatureChange publish even if the export's signatures differ from the previous version's
 */
record RunSettings(
    RunConfig config,
    Path runDirectory,
    boolean resume,
    Path exportRoot,
    String exportName,
    int threads,
    List<PhaseListener> listeners,
    EarlyStop earlyStopping,
    List<String> classNames,
    boolean allowSignatureChange) {

  /** Early stopping's settings; a fresh listener is made for each phase. */
  record EarlyStop(EarlyStopping.Metric metric, int patience, double minDelta) {}
}
