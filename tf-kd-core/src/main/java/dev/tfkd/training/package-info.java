/**
 * Training: objectives (cross-entropy, distillation), the optimizer ops, the training loop and its listeners.
 */
package dev.tfkd.training;
