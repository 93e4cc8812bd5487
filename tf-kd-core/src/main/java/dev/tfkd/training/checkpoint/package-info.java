/**
 * A training run's checkpoints on disk: {@link dev.tfkd.training.checkpoint.Checkpoints} writes and finds them
 * atomically, and the generated {@code TrainerState}, {@code EpochRecord} and {@code HookValues} messages (from
 * {@code checkpoint.proto}) are the state saved beside the variables. The run configuration lives in {@code
 * dev.tfkd.config}; this package knows nothing of it.
 *
 * <p>Not API: not exported by {@code dev.tfkd.core}; runs resume through {@code dev.tfkd.run}.
 */
package dev.tfkd.training.checkpoint;
