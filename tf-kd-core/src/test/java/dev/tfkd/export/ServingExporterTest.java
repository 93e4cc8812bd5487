package dev.tfkd.export;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Tensors;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

class ServingExporterTest {
  @TempDir static Path work;
  static TrainedModel model;
  static Dataset test;

  @BeforeAll
  static void train() {
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    Dataset train = g.sample(400, 1, "train");
    test = g.sample(100, 2, "test");
    // Adam adds two slot variables per weight: the export must not carry them.
    model =
        new Trainer(new TrainConfig(3, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(5, 8, 3), train, new CrossEntropy(), null, work);
  }

  @Test
  void exportReloadsInNewBundleAndMatchesPredictions(@TempDir Path root) throws Exception {
    float[] expected;
    Path dir;
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      expected = m.logits(test);
      dir = ServingExporter.exportNextVersion(m, root, "student");
    }
    assertEquals(root.resolve("student").resolve("1"), dir);
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve");
        TFloat32 x = Tensors.floats(InferenceModel.batchShape(new long[] {5}, test.size()), test.features(), 0, test.features().length);
        Result r = b.function("serving_default").call(Map.of("inputs", x))) {
      TFloat32 logits = (TFloat32) r.get("logits").orElseThrow();
      float[] actual = new float[expected.length];
      logits.asRawTensor().data().asFloats().read(actual);
      assertAllClose(actual, expected, Assertions.FLOAT32_TIGHT);
      TFloat32 probs = (TFloat32) r.get("probabilities").orElseThrow();
      assertAllClose(probs.getFloat(0, 0) + probs.getFloat(0, 1) + probs.getFloat(0, 2), 1.0, 0, 1e-5);
      TInt64 classes = (TInt64) r.get("classes").orElseThrow();
      assertEquals(test.size(), classes.shape().size());
    }
  }

  @Test
  void exportHoldsOnlyTheModelsVariablesAndServingSignature(@TempDir Path root) throws Exception {
    Path dir;
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      dir = ServingExporter.exportNextVersion(m, root, "student");
    }
    SavedModel saved;
    try (InputStream in = Files.newInputStream(dir.resolve("saved_model.pb"))) {
      saved = SavedModel.parseFrom(in);
    }
    MetaGraphDef meta = saved.getMetaGraphs(0);
    assertEquals(List.of("serve"), meta.getMetaInfoDef().getTagsList());
    TreeSet<String> variables = new TreeSet<>();
    for (NodeDef node : meta.getGraphDef().getNodeList()) {
      if (node.getOp().equals("VariableV2")) {
        variables.add(node.getName());
      }
      assertFalse(node.getOp().startsWith("Apply"), "training op in export: " + node.getName());
    }
    assertEquals(new TreeSet<>(List.of("w1", "b1", "w2", "b2")), variables);
    SignatureDef sig = meta.getSignatureDefOrThrow("serving_default");
    assertEquals("tensorflow/serving/predict", sig.getMethodName());
    assertEquals(List.of("inputs"), List.copyOf(sig.getInputsMap().keySet()));
    assertEquals(new TreeSet<>(List.of("logits", "probabilities", "classes")), new TreeSet<>(sig.getOutputsMap().keySet()));
    assertEquals(org.tensorflow.proto.DataType.DT_INT64, sig.getOutputsOrThrow("classes").getDtype());
    assertTrue(Files.exists(dir.resolve("variables/variables.index")));
  }

  @Test
  void versionsIncreaseAndNoTemporaryDirectoryRemains(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("m/notaversion"));
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      ServingExporter.exportNextVersion(m, root, "m");
      Path second = ServingExporter.exportNextVersion(m, root, "m");
      assertEquals("2", second.getFileName().toString());
      assertThrows(java.io.IOException.class, () -> ServingExporter.export(m, second));
    }
    try (Stream<Path> s = Files.list(root.resolve("m"))) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tmp")));
    }
  }
}
