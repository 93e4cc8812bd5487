package dev.tfkd.testing;

import dev.tfkd.data.Dataset;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Variables;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** A one-hidden-layer MLP on flattened 8x8x1 images of 4 classes (e.g. {@code new Shapes(8, 8, 1, 4)}), for tests. */
public record FlatMlp(int hidden) implements Architecture {
  @Override
  public String name() {
    return "flat-mlp-" + hidden;
  }

  @Override
  public long[] inputShape() {
    return new long[] {8, 8, 1};
  }

  @Override
  public int numClasses() {
    return 4;
  }

  @Override
  public Forward build(Ops tf, Operand<TFloat32> x, Variables vars, Mode mode) {
    return new TinyMlp(64, hidden, 4).build(tf, tf.reshape(x, tf.constant(new long[] {-1, 64})), vars, mode);
  }

  /** A teacher of this architecture trained briefly (2 epochs, one thread) on {@code data}, exported as {@code dir/teacher/1}. */
  public Path exportTrained(Dataset data, Path dir) throws IOException {
    TrainedModel m =
        new Trainer(new TrainConfig(2, 16, OptimizerConfig.adam(1e-2f), 3, 1), List.of())
            .train(this, data, new CrossEntropy(), null, dir);
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      return ServingExporter.export(im, dir.resolve("teacher").resolve("1"));
    }
  }
}
