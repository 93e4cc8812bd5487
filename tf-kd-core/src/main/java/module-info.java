/**
 * tf-kd core: distillation runs, teachers, divergences, teacher objectives, data readers, metrics, training
 * configuration and SavedModel export for TensorFlow Java.
 *
 * <p>The exported packages are the API an application uses. {@code dev.tfkd.io} (atomic writes, JSON, TFRecord
 * framing, event files) and {@code dev.tfkd.bench} (the benchmark's measuring tools) are plumbing shared with this
 * project's other modules only; {@code dev.tfkd.training.checkpoint} (checkpoint state) is not exported at all.
 */
module dev.tfkd.core {
  // TensorFlow's Graph, Ops, Operand and tensors, and the generated configuration protos, appear in the API.
  requires transitive tensorflow;
  requires transitive com.google.protobuf;
  requires org.knowm.xchart;
  // FarmHash Fingerprint64 for SavedModel fingerprints.
  requires com.google.common;
  // Image files (data readers) are decoded with javax.imageio.
  requires java.desktop;
  // Free physical memory (the memory estimate before a run) and process CPU time (benchmarks).
  requires jdk.management;

  exports dev.tfkd.cluster;
  exports dev.tfkd.config;
  exports dev.tfkd.data;
  exports dev.tfkd.data.io;
  exports dev.tfkd.experiments;
  exports dev.tfkd.export;
  exports dev.tfkd.features;
  exports dev.tfkd.graph;
  exports dev.tfkd.losses;
  exports dev.tfkd.metrics;
  exports dev.tfkd.objectives;
  exports dev.tfkd.run;
  exports dev.tfkd.teacher;
  exports dev.tfkd.training;

  exports dev.tfkd.io to dev.tfkd.models, dev.tfkd.cli;
  exports dev.tfkd.bench to dev.tfkd.models, dev.tfkd.cli;

  // Protobuf reads generated messages reflectively (text format, field accessors).
  opens dev.tfkd.config to com.google.protobuf;
  opens dev.tfkd.training.checkpoint to com.google.protobuf;
  opens dev.tfkd.export.serving to com.google.protobuf;
}
