package dev.tfkd.run;

import dev.tfkd.training.TrainingListener;

/**
 * Makes a listener for each phase of a run (most runs have one; MCMI has two): e.g. a progress display labelled
 * with the phase.
 */
@FunctionalInterface
public interface PhaseListener {
  /**
   * The listener for one phase.
   *
   * @param phase the phase's label, e.g. {@code student}, {@code mll}, {@code mcmi fine-tuning}
   * @param epochs the phase's planned epochs
   * @return a listener for that phase
   */
  TrainingListener create(String phase, int epochs);

  /**
   * The same listener for every phase.
   *
   * @param listener the listener
   * @return a phase listener that always returns {@code listener}
   */
  static PhaseListener of(TrainingListener listener) {
    return (phase, epochs) -> listener;
  }
}
