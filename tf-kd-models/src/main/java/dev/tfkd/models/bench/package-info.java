/**
 * The reference training benchmarks of {@code tfkd bench} ({@link dev.tfkd.models.bench.Bench}), beside the model
 * zoo whose models they train.
 */
package dev.tfkd.models.bench;
