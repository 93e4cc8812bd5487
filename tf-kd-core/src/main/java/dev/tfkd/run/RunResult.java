package dev.tfkd.run;

import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.TrainingListener.EpochMetrics;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a run ({@link Distiller#fit()}, {@link TeacherTrainer#fit()}) produced.
 *
 * @param model the trained architecture's name
 * @param parameters its trainable parameters
 * @param scores the final figures on the test data, one per model scored (e.g. the teacher, then the student);
 *     empty without test data
 * @param history every epoch of the run (for a run of two phases, the second's numbered on after the first's)
 * @param plannedEpochs the epochs the run would have had without early stopping
 * @param trained the trained model (its final checkpoint in the run directory)
 * @param phases the model at the end of each phase (one for most runs; MCMI: the MLL model, then the fine-tuned)
 * @param exportPath the published SavedModel version directory, or {@code null} without export
 * @param exportReused whether a resumed run found its export already published and did not export again
 * @param runDirectory the run directory
 * @param resultsJson {@code results.json}
 * @param report the report's HTML page
 * @param trainCmi the trained model's empirical CMI on its training data, when measured (teacher runs)
 * @param warnings what the run's figures suggest is wrong (e.g. accuracy at or below chance); not failures
 */
public record RunResult(
    String model,
    long parameters,
    List<ModelScore> scores,
    List<EpochMetrics> history,
    int plannedEpochs,
    TrainedModel trained,
    List<TrainedModel> phases,
    Path exportPath,
    boolean exportReused,
    Path runDirectory,
    Path resultsJson,
    Path report,
    OptionalDouble trainCmi,
    List<String> warnings) {
  /** Copies the lists. */
  public RunResult {
    scores = List.copyOf(scores);
    history = List.copyOf(history);
    phases = List.copyOf(phases);
    warnings = List.copyOf(warnings);
  }

  /**
   * Whether early stopping ended the run before its planned epochs.
   *
   * @return true when the history is shorter than the planned epochs
   */
  public boolean stoppedEarly() {
    return history.size() < plannedEpochs;
  }

  /**
   * The figures of the model scored under {@code name} (e.g. {@code "teacher"}).
   *
   * @param name the role the model was scored under
   * @return its figures, or empty when no model was scored under that name
   */
  public Optional<ModelScore> score(String name) {
    return scores.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /**
   * The trained model's figures on the test data (the last score), if there was test data.
   *
   * @return the last score, or empty without test data
   */
  public Optional<ModelScore> trainedScore() {
    return scores.isEmpty() ? Optional.empty() : Optional.of(scores.get(scores.size() - 1));
  }

  /**
   * The export, if the run exported.
   *
   * @return the published version directory, or empty
   */
  public Optional<Path> export() {
    return Optional.ofNullable(exportPath);
  }
}
