package dev.tfkd.models;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.export.Signatures;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Tensors;
import dev.tfkd.testing.Assertions;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.types.TFloat32;

/**
 * Every model of the registry trains (the loss falls on a small batch it can overfit), exports as a SavedModel, and
 * the reloaded SavedModel predicts what the in-process inference graph predicts. Tiny images keep the big networks
 * fast: the point is the graph, not accuracy.
 */
class ZooTrainingTest {
  @TempDir Path tmp;

  /** Every registered model, or those named in the system property {@code tfkd.models} (comma-separated). */
  static Stream<String> models() {
    String only = System.getProperty("tfkd.models", "");
    return Models.entries().stream()
        .map(Models.Entry::name)
        .filter(n -> only.isBlank() || List.of(only.split(",")).contains(n));
  }

  static Dataset randomImages(int n, int h, int w, int c, int k, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[n * h * w * c];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextDouble();
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % k;
    }
    return new Dataset("random", x, y, new long[] {h, w, c}, k, null);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void trainsExportsAndReloads(String name) throws Exception {
    int side = name.equals("lenet5") ? 16 : 8;
    Dataset data = randomImages(8, side, side, 3, 4, 7);
    Architecture arch = Models.create(name, data.exampleShape(), 4);
    TrainConfig cfg = new TrainConfig(6, 8, OptimizerConfig.adam(1e-3f), 11, 1);
    TrainedModel trained = new Trainer(cfg, List.of()).train(arch, data, new CrossEntropy(), null, tmp);
    double first = trained.history().get(0).total();
    double last = trained.history().get(trained.history().size() - 1).total();
    assertTrue(last < first, name + ": loss went from " + first + " to " + last);
    assertEquals(Models.parameterCount(arch), trained.trainableParameters(), name);

    try (InferenceModel m = trained.load(Trainer.sessionConfig(1))) {
      float[] expected = m.logits(data);
      Path dir = ServingExporter.export(m, tmp.resolve("export").resolve("1"));
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), ServingExporter.SERVE_TAG);
          TFloat32 x =
              Tensors.floats(InferenceModel.batchShape(data.exampleShape(), data.size()), data.features(), 0,
                  data.features().length);
          Result r = b.function("serving_default").call(Map.of(Signatures.INPUTS, x))) {
        TFloat32 logits = (TFloat32) r.get(Signatures.LOGITS).orElseThrow();
        float[] actual = new float[expected.length];
        logits.asRawTensor().data().asFloats().read(actual);
        Assertions.assertAllClose(actual, expected, Assertions.FLOAT32_LOOSE);
      }
    }
  }
}
