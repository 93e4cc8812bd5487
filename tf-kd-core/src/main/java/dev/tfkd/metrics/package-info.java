/**
 * Evaluation figures computed in float64: accuracy, NLL, distance to the true posterior.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.metrics;
