/**
 * tf-kd models: the model zoo, architectures as TensorFlow graph builders ({@code dev.tfkd.models}). The reference
 * benchmarks ({@code dev.tfkd.models.bench}) are exported to the command line only.
 */
module dev.tfkd.models {
  requires transitive dev.tfkd.core;

  exports dev.tfkd.models;
  exports dev.tfkd.models.bench to dev.tfkd.cli;
}
