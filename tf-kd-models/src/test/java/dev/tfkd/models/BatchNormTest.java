package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Tensors;
import dev.tfkd.graph.TrainingVariables;
import dev.tfkd.testing.Assertions;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** Batch normalisation: batch statistics and moving-average updates when training, moving averages at inference. */
class BatchNormTest {
  @TempDir Path tmp;

  @Test
  void trainingModeNormalisesWithBatchStatisticsAndMovesTheAverages() {
    // Two examples of 1x1x2: channel 0 takes 1 and 3, channel 1 takes 10 and 10.
    float[] in = {1f, 10f, 3f, 10f};
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 1, 1, 2)));
      Layers l = new Layers(tf, new TrainingVariables(1), Architecture.Mode.TRAINING);
      Forward f = l.forward(tf.reshape(l.batchNorm("bn", x), tf.constant(new int[] {-1, 2})));
      assertEquals(2, f.updates().size());
      try (Session s = new Session(g);
          TFloat32 xt = Tensors.floats(Shape.of(2, 1, 1, 2), in, 0, 4)) {
        float[] y = new float[4];
        try (Result r = s.runner().feed(x, xt).fetch(f.logits()).run()) {
          ((TFloat32) r.get(0)).asRawTensor().data().asFloats().read(y);
        }
        // Channel 0: mean 2, biased variance 1 -> -1, +1 (up to epsilon); channel 1: constant -> 0.
        Assertions.assertAllClose(y, new float[] {-1f, 0f, 1f, 0f}, Assertions.FLOAT32_LOOSE);
        Session.Runner run = s.runner().feed(x, xt);
        f.updates().forEach(run::addTarget);
        run.run();
        try (Result r = s.runner().fetch("bn_moving_mean").fetch("bn_moving_variance").run()) {
          float[] mean = new float[2];
          float[] var = new float[2];
          ((TFloat32) r.get(0)).asRawTensor().data().asFloats().read(mean);
          ((TFloat32) r.get(1)).asRawTensor().data().asFloats().read(var);
          // 0.9 * 0 + 0.1 * batch mean; 0.9 * 1 + 0.1 * unbiased batch variance (2 for channel 0, 0 for channel 1).
          Assertions.assertAllClose(mean, new float[] {0.2f, 1f}, Assertions.FLOAT32);
          Assertions.assertAllClose(var, new float[] {1.1f, 0.9f}, Assertions.FLOAT32);
        }
      }
    }
  }

  @Test
  void inferenceUsesTheMovingAveragesSoPredictionsDoNotDependOnTheBatch() {
    Dataset data = ZooTrainingTest.randomImages(16, 8, 8, 3, 4, 3);
    Architecture arch = Models.create("resnet8", data.exampleShape(), 4);
    TrainedModel trained =
        new Trainer(new TrainConfig(3, 8, OptimizerConfig.adam(1e-3f), 5, 1), List.of())
            .train(arch, data, new CrossEntropy(), null, tmp);
    try (InferenceModel m = trained.load(Trainer.sessionConfig(1))) {
      float[] all = m.logits(data);
      float[] first = m.logits(data.select(new int[] {0}, "one"));
      float[] firstInAll = java.util.Arrays.copyOf(all, 4);
      Assertions.assertAllClose(first, firstInAll, 1e-5, 1e-5);
      try (Result r = m.session().runner().fetch("bn1_moving_mean").run()) {
        float[] mean = new float[16];
        ((TFloat32) r.get(0)).asRawTensor().data().asFloats().read(mean);
        // Six steps of updates moved the averages away from their zero start.
        assertNotEquals(0f, mean[0]);
      }
    }
  }
}
