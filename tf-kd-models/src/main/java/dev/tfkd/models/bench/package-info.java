/**
 * The reference training benchmarks of {@code tfkd bench} ({@link dev.tfkd.models.bench.Bench}), beside the model
 * zoo whose models they train.
 *
 * <p>Not API: exported only to {@code dev.tfkd.cli} (see {@code module-info.java}).
 */
package dev.tfkd.models.bench;
