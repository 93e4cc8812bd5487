/**
 * How a model becomes a graph: {@link dev.tfkd.graph.Architecture} builds the forward pass, {@link
 * dev.tfkd.graph.Variables} supplies its variables (seeded for training, restored for inference), and {@link
 * dev.tfkd.graph.InferenceModel} is the clean inference graph that predictions and exports use.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.graph;
