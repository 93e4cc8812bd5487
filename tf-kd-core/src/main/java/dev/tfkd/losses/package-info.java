/**
 * Distillation divergences and the losses built from them, as stateless graph builders. Each divergence is
 * per-example; reduction over the batch happens in the objective.
 */
package dev.tfkd.losses;
