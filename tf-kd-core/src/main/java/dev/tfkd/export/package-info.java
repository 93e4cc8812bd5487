/**
 * SavedModels for TensorFlow Serving and Java applications: {@link dev.tfkd.export.ServingExporter} publishes
 * versions atomically with predict and classify signatures, a provenance {@link dev.tfkd.export.Manifest} and
 * warm-up records; {@link dev.tfkd.export.Predictor} loads an export for applications; {@link
 * dev.tfkd.export.GraphSafety} refuses graphs that do more than compute.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.export;
