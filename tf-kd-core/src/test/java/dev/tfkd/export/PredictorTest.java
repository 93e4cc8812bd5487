package dev.tfkd.export;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PredictorTest {
  @TempDir static Path work;
  static Dataset test;
  static float[] expected;
  static Path export;

  @BeforeAll
  static void trainAndExport() throws Exception {
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    test = g.sample(300, 2, "test");
    TrainedModel model =
        new Trainer(new TrainConfig(2, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(5, 8, 3), g.sample(200, 1, "train"), new CrossEntropy(), null, work);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      expected = m.logits(test);
      ServingExporter.exportNextVersion(m, work.resolve("models"), "tiny");
    }
    export = work.resolve("models/tiny");
  }

  @Test
  void predictsInSmallBatchesFromSeveralThreadsLikeTheTrainingSide() throws Exception {
    // The model directory (not the version) is given: the latest version is used.
    try (Predictor p = Predictor.load(export, Predictor.Options.DEFAULT.withMaxBatch(7).withThreads(1))) {
      assertEquals(3, p.numClasses());
      assertArrayEquals(new long[] {5}, p.exampleShape());
      assertEquals("logits", p.output());
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<float[]>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          results.add(pool.submit(() -> p.logits(test.features(), test.size())));
        }
        for (Future<float[]> f : results) {
          assertAllClose(f.get(), expected, Assertions.FLOAT32_TIGHT);
        }
      } finally {
        pool.shutdown();
      }
      float[][] rows = {java.util.Arrays.copyOfRange(test.features(), 0, 5)};
      Predictor.Prediction pr = p.predict(rows);
      assertEquals(1, pr.classes().length);
      assertAllClose(pr.probabilities()[0][0] + pr.probabilities()[0][1] + pr.probabilities()[0][2], 1.0, 0, 1e-5);
      assertThrows(IllegalArgumentException.class, () -> p.predict(new float[][] {{1, 2}}));
      p.close();
      assertThrows(IllegalStateException.class, () -> p.predict(rows));
    }
  }

  @Test
  void teacherFromAProbabilitiesOutputGivesLogitsUpToAConstant() {
    var options = new SavedModelTeacher.TeacherOptions("serving_default", "probabilities", OutputKind.AUTO, false);
    try (SavedModelTeacher t = SavedModelTeacher.load(export, options)) {
      assertTrue(t.outputsProbabilities());
      float[] logits = t.logits(test, 3);
      // log softmax(z) = z - logsumexp(z): equal to the real logits up to a per-row constant.
      for (int i = 0; i < test.size(); i++) {
        double shift = logits[i * 3] - expected[i * 3];
        for (int c = 1; c < 3; c++) {
          assertAllClose(logits[i * 3 + c] - expected[i * 3 + c], shift, 0, 1e-4);
        }
      }
    }
    var bad = new SavedModelTeacher.TeacherOptions("serving_default", "classes", OutputKind.LOGITS, false);
    var e = assertThrows(IllegalArgumentException.class, () -> SavedModelTeacher.load(export, bad));
    assertTrue(e.getMessage().contains("DT_INT64"), e.getMessage());
    var missing = new SavedModelTeacher.TeacherOptions("nope", null, null, false);
    e = assertThrows(IllegalArgumentException.class, () -> SavedModelTeacher.load(export, missing));
    assertTrue(e.getMessage().contains("no signature 'nope'"), e.getMessage());
    try (SavedModelTeacher t = SavedModelTeacher.load(export)) {
      assertAllClose(t.logits(test, 3), expected, Assertions.FLOAT32_TIGHT);
      assertThrows(IllegalArgumentException.class, () -> t.logits(test, 4));
    }
  }
}
