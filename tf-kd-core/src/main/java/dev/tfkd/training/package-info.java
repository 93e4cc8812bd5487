/**
 * Training: objectives (cross-entropy, distillation), the optimizer ops, the training loop and its listeners.
 *
 * <p>API: exported by {@code dev.tfkd.core}. Applications use its configuration and listener types ({@code
 * TrainConfig}, {@code OptimizerConfig}, {@code Distillation}, {@code SessionSettings}, {@code TrainingListener});
 * the loop's public parts ({@code Trainer}, {@code BatchFeeder}, {@code TrainingContext}) serve core's other packages
 * and are reached through {@code dev.tfkd.run}.
 */
package dev.tfkd.training;
