package dev.tfkd.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.Shapes;
import dev.tfkd.data.Subsets;
import dev.tfkd.data.io.TestFiles;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Kl;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.SharedData;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on IDX files: a CNN teacher from the zoo trains on IDX images, then a LeNet-5 student is distilled from
 * it, and both are evaluated on held-out images. Runs on the real MNIST test split when the shared copy is present
 * (skips otherwise) and always on the built-in grey shapes written out as IDX files.
 */
class IdxDistillationTest {
  @TempDir Path tmp;

  @Test
  void cnnTrainsAndDistillsOnMnist() {
    Path dir = SharedData.mnist10k().orElse(null);
    Assumptions.assumeTrue(dir != null, "shared/datasets/mnist-10k is not present");
    Dataset all = DataSources.load(dir.resolve("t10k-images-idx3-ubyte.gz").toString(), null, DataSources.Split.TRAIN);
    // A small stratified subset keeps the test fast: 1,000 to train on, 500 held out.
    Dataset subset = Subsets.stratifiedFraction(all, 0.15, 1);
    Dataset[] parts = Subsets.stratifiedSplit(subset, 1.0 / 3, 2);
    run(parts[0], parts[1], 0.85, 0.80);
  }

  @Test
  void cnnTrainsAndDistillsOnShapesWrittenAsIdx() throws Exception {
    Shapes shapes = new Shapes(28, 28, 1, 10);
    Path train = TestFiles.writeIdx(shapes.sample(1000, 1, "s"), tmp, "train");
    TestFiles.writeIdx(shapes.sample(500, 2, "s"), tmp, "t10k");
    Dataset trainSet = DataSources.load(train.toString(), null, DataSources.Split.TRAIN);
    Dataset testSet = DataSources.load(tmp.toString(), null, DataSources.Split.TEST);
    run(trainSet, testSet, 0.85, 0.70);
  }

  private void run(Dataset train, Dataset test, double teacherMin, double studentMin) {
    long[] shape = train.exampleShape();
    Architecture teacherArch = Models.create("cnn", shape, 10);
    Architecture studentArch = Models.create("lenet5", shape, 10);
    OptimizerConfig adam = OptimizerConfig.adam(2e-3f);
    TrainedModel teacher =
        new Trainer(new TrainConfig(2, 50, adam, 1, 2), List.of()).train(teacherArch, train, new CrossEntropy(), null, tmp);
    float[] teacherLogits;
    Evaluation t;
    try (InferenceModel m = teacher.load(Trainer.sessionConfig(2))) {
      teacherLogits = m.logits(train);
      t = Metrics.evaluate(m.logits(test), test);
    }
    TrainedModel student =
        new Trainer(new TrainConfig(3, 50, adam, 2, 2), List.of())
            .train(studentArch, train, new Distillation(0.1f, 0.9f, new Kl(4f)), teacherLogits, tmp);
    Evaluation s;
    try (InferenceModel m = student.load(Trainer.sessionConfig(2))) {
      s = Metrics.evaluate(m.logits(test), test);
    }
    String report = String.format(Locale.ROOT, "%s: teacher cnn %.3f, distilled lenet5 %.3f", train.name(), t.accuracy(), s.accuracy());
    System.out.println(report);
    assertTrue(t.accuracy() >= teacherMin, report);
    assertTrue(s.accuracy() >= studentMin, report);
  }
}
