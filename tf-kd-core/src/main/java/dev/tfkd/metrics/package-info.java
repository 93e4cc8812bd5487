/** Evaluation figures computed in float64: accuracy, NLL, distance to the true posterior. */
package dev.tfkd.metrics;
