package dev.tfkd.teacher;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.export.OutputKind;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.FashionMnist;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Fashion-MNIST: read whole, a small teacher trained on part of it, exported, and read back through the
 * third-party SavedModel path ({@link SavedModelTeacher}, output kind decided from the graph and the values) with the
 * same logits the trained model computes. Skips where the dataset is not installed.
 */
class FashionMnistTeacherTest {
  @TempDir Path work;

  private static Dataset flat(Dataset d) {
    return new Dataset(d.name(), d.features(), d.labels(), new long[] {784}, d.numClasses(), null);
  }

  @Test
  void aTeacherTrainedOnFashionMnistIsReadBackAsAThirdPartyTeacher() throws Exception {
    Path dir = FashionMnist.find().orElse(null);
    assumeTrue(dir != null, "needs Fashion-MNIST in " + FashionMnist.DEFAULT_DIR + " (apt-get install dataset-fashion-mnist)");
    Dataset train = DataSources.load(dir.toString(), null, DataSources.Split.TRAIN);
    Dataset test = DataSources.load(dir.toString(), null, DataSources.Split.TEST);
    assertEquals(60_000, train.size());
    assertEquals(10_000, test.size());
    assertArrayEquals(new long[] {28, 28, 1}, train.exampleShape());
    assertEquals(10, train.numClasses());
    // Fashion-MNIST is balanced: 6,000 and 1,000 images of each class.
    for (int c = 0; c < 10; c++) {
      assertEquals(6_000, train.classCounts()[c], "train class " + c);
      assertEquals(1_000, test.classCounts()[c], "test class " + c);
    }

    // The teacher takes flattened [784] images; the images as read are [28, 28, 1]: the teacher path adapts them.
    Dataset part = flat(train.select(IntStream.range(0, 3_000).toArray(), "fashion-3000"));
    Dataset scored = test.select(IntStream.range(0, 1_000).toArray(), "fashion-test-1000");
    TrainedModel m =
        new Trainer(new TrainConfig(3, 64, OptimizerConfig.adam(2e-3f), 1, 1), List.of())
            .train(new TinyMlp(784, 64, 10), part, new CrossEntropy(), null, work.resolve("train"));
    float[] own;
    Path export;
    try (InferenceModel im = m.load(Trainer.sessionConfig(1))) {
      own = im.logits(flat(scored));
      export = ServingExporter.export(im, work.resolve("models/fashion/1"));
    }
    try (SavedModelTeacher t = SavedModelTeacher.load(work.resolve("models/fashion"))) {
      float[] read = t.logits(scored);
      assertAllClose(read, own, Assertions.FLOAT32_LOOSE);
      assertEquals(export, Path.of(t.source()));
      String reading = t.outputReading();
      assertTrue(reading.startsWith("output 'logits' read as logits") && reading.contains("confirmed by the values"),
          reading);
      // Far above chance (0.1) after 3 epochs on 3,000 images; a wrong reading or input layout would not be.
      double accuracy = Metrics.evaluate(read, scored).accuracy();
      assertTrue(accuracy > 0.7, "accuracy " + accuracy);
    }
    // Read through its probabilities output instead: found as a Softmax, and the same distribution.
    var probabilities = new SavedModelTeacher.TeacherOptions("serving_default", "probabilities", OutputKind.AUTO, false);
    try (SavedModelTeacher t = SavedModelTeacher.load(export, probabilities)) {
      double nllLogits = Metrics.evaluate(own, scored).nll();
      assertAllClose(Metrics.evaluate(t.logits(scored), scored).nll(), nllLogits, 1e-4, 1e-5);
      assertTrue(t.outputReading().contains("read as probabilities (Softmax"), t.outputReading());
    }
  }
}
