package dev.tfkd.export;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.CodedInputStream;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.testing.Assertions;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;

class ExportFeaturesTest {
  @TempDir static Path work;
  static TrainedModel model;
  static Dataset test;

  @BeforeAll
  static void train() {
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    test = g.sample(50, 2, "test");
    model =
        new Trainer(new TrainConfig(2, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(5, 8, 3), g.sample(200, 1, "train"), new CrossEntropy(), null, work);
  }

  static byte[] example(float[] features, int offset, int size) {
    FloatList.Builder values = FloatList.newBuilder();
    for (int i = 0; i < size; i++) {
      values.addValue(features[offset + i]);
    }
    return Example.newBuilder()
        .setFeatures(Features.newBuilder().putFeature("x", Feature.newBuilder().setFloatList(values).build()))
        .build()
        .toByteArray();
  }

  @Test
  void classifySignatureParsesExamplesAndGivesLabelsAndScores(@TempDir Path root) throws Exception {
    float[] expected;
    Path dir;
    var options = new InferenceModel.Options(null, List.of("cat", "dog", "eel"));
    try (InferenceModel m = model.load(Trainer.sessionConfig(1), options)) {
      expected = m.logits(test);
      dir = ServingExporter.exportNextVersion(m, root, "m");
    }
    int n = 4;
    byte[][] examples = new byte[n][];
    for (int i = 0; i < n; i++) {
      examples[i] = example(test.features(), i * 5, 5);
    }
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve");
        TString in = TString.tensorOfBytes(org.tensorflow.ndarray.NdArrays.vectorOfObjects(examples));
        Result r = b.function("classify").call(Map.of("inputs", in))) {
      var sig = b.metaGraphDef().getSignatureDefOrThrow("classify");
      assertEquals("tensorflow/serving/classify", sig.getMethodName());
      assertEquals(org.tensorflow.proto.DataType.DT_STRING, sig.getOutputsOrThrow("classes").getDtype());
      TString classes = (TString) r.get("classes").orElseThrow();
      TFloat32 scores = (TFloat32) r.get("scores").orElseThrow();
      assertArrayEquals(new long[] {n, 3}, classes.shape().asArray());
      assertArrayEquals(new long[] {n, 3}, scores.shape().asArray());
      double[] lp = new double[3];
      for (int i = 0; i < n; i++) {
        Metrics.logSoftmax(expected, i * 3, 3, lp);
        for (int c = 0; c < 3; c++) {
          assertEquals(List.of("cat", "dog", "eel").get(c), classes.getObject(i, c));
          assertAllClose(scores.getFloat(i, c), Math.exp(lp[c]), 0, 1e-5);
        }
      }
    }
  }

  @Test
  void bakedNormalizationTakesRawInputs(@TempDir Path root) throws Exception {
    float[] mean = {1, 2, 3, 4, 5};
    float[] std = {2, 2, 0.5f, 1, 4};
    // Raw inputs x; the model was trained on (x - mean) / std, which is test's features.
    float[] raw = test.features().clone();
    for (int i = 0; i < raw.length; i++) {
      raw[i] = raw[i] * std[i % 5] + mean[i % 5];
    }
    Dataset rawData = new Dataset("raw", raw, test.labels(), test.exampleShape(), 3, null);
    float[] expected;
    Path dir;
    try (InferenceModel plain = model.load(Trainer.sessionConfig(1))) {
      expected = plain.logits(test);
    }
    var norm = new dev.tfkd.data.Normalization(mean, std);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1), new InferenceModel.Options(norm, null))) {
      assertAllClose(m.logits(rawData), expected, 1e-5, 1e-5);
      dir = ServingExporter.exportNextVersion(m, root, "m", ExportOptions.withManifest(new Manifest()));
    }
    try (Predictor p = Predictor.load(dir)) {
      assertAllClose(p.logits(raw, test.size()), expected, 1e-5, 1e-5);
    }
    String manifest = Files.readString(dir.resolve(Manifest.FILE));
    assertTrue(manifest.contains("\"inputs\": \"raw\""), manifest);
    assertTrue(manifest.contains("\"std\": [2, 2, 0.5, 1, 4]"), manifest);
    assertThrows(IllegalArgumentException.class, () -> new dev.tfkd.data.Normalization(mean, new float[] {1, 1, 0, 1, 1}));

    // Normalization.fit on the raw data, baked in: the export takes raw inputs and sees what training saw.
    var fitted = dev.tfkd.data.Normalization.fit(rawData);
    try (InferenceModel m = model.load(Trainer.sessionConfig(1), new InferenceModel.Options(fitted, null))) {
      assertAllClose(m.logits(rawData), plainLogits(fitted.apply(rawData)), 1e-5, 1e-5);
    }
  }

  private static float[] plainLogits(Dataset data) {
    try (InferenceModel plain = model.load(Trainer.sessionConfig(1))) {
      return plain.logits(data);
    }
  }

  @Test
  void manifestHoldsProvenanceAndWarmupRecordsParseBack(@TempDir Path root) throws Exception {
    Dataset train = new GaussianMixture(3, 5, 1.5, 7).sample(200, 1, "train");
    Manifest manifest =
        new Manifest()
            .put("training", Map.of("epochs", 2, "optimizer", "adam"))
            .put("seed", 1L)
            .dataset("train", train)
            .teacher("/models/teacher/3", new float[] {1f, 2f})
            .evaluation("test", new dev.tfkd.metrics.Evaluation(50, 0.5, 1.25, Double.NaN, Double.NaN));
    Path dir;
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      dir = ServingExporter.exportNextVersion(m, root, "m", ExportOptions.withManifest(manifest).withWarmup(test, 3, 2));
    }
    String json = Files.readString(dir.resolve(Manifest.FILE));
    assertTrue(json.contains("\"sha256\": \"" + Manifest.fingerprint(train) + "\""), json);
    assertTrue(json.contains("\"tensorflow\": \"2.18.0\""), json);
    assertTrue(json.contains("\"accuracy\": 0.5"), json);
    assertTrue(json.contains("\"klToPosterior\": null"), json);
    assertTrue(json.contains("\"architecture\": \"tiny-5-8-3\""), json);
    assertEquals(64, Manifest.fingerprint(train).length());

    List<byte[]> records = readTfRecords(Files.readAllBytes(dir.resolve(WarmupRecords.FILE)));
    // Three predict requests, then three classify requests with the same examples.
    assertEquals(6, records.size());
    for (int r = 0; r < 3; r++) {
      TensorProto t = parseWarmup(records.get(r));
      assertEquals(org.tensorflow.proto.DataType.DT_FLOAT, t.getDtype());
      assertEquals(2, t.getTensorShape().getDim(0).getSize());
      assertEquals(5, t.getTensorShape().getDim(1).getSize());
      float[] values = new float[10];
      t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      float[] want = new float[10];
      System.arraycopy(test.features(), r * 10, want, 0, 10);
      assertAllClose(values, want, Assertions.EXACT);
    }
  }

  /** Reads TFRecord framing, checking both masked CRCs. */
  static List<byte[]> readTfRecords(byte[] file) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> out = new ArrayList<>();
    while (b.hasRemaining()) {
      long len = b.getLong();
      assertEquals(dev.tfkd.io.TfRecord.maskedCrc32c(file, b.position() - 8, 8), b.getInt());
      byte[] data = new byte[(int) len];
      b.get(data);
      assertEquals(dev.tfkd.io.TfRecord.maskedCrc32c(data, 0, data.length), b.getInt());
      out.add(data);
    }
    return out;
  }

  /** Walks PredictionLog -> predict_log(6) -> request(1) -> inputs(2) entry -> value(2), checking the other fields. */
  static TensorProto parseWarmup(byte[] record) throws IOException {
    byte[] predictLog = onlyField(record, 6);
    byte[] request = onlyField(predictLog, 1);
    CodedInputStream in = CodedInputStream.newInstance(request);
    byte[] entry = null;
    String signature = null;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag >>> 3 == 1) {
        signature = new String(onlyField(in.readByteArray(), 3), StandardCharsets.UTF_8);
      } else if (tag >>> 3 == 2) {
        entry = in.readByteArray();
      } else {
        throw new AssertionError("unexpected field " + (tag >>> 3));
      }
    }
    assertEquals("serving_default", signature);
    CodedInputStream e = CodedInputStream.newInstance(entry);
    assertEquals(1 << 3 | 2, e.readTag());
    assertEquals("inputs", e.readString());
    assertEquals(2 << 3 | 2, e.readTag());
    return TensorProto.parseFrom(e.readByteArray());
  }

  private static byte[] onlyField(byte[] message, int field) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(message);
    int tag = in.readTag();
    assertEquals(field << 3 | 2, tag, "field " + field + ", length-delimited");
    byte[] v = in.readByteArray();
    assertEquals(0, in.readTag(), "one field only");
    return v;
  }

  @Test
  void failureBeforePublishLeavesNoVersionAndNoTemporaryDirectory(@TempDir Path root) throws Exception {
    ServingExporter.beforePublish = tmp -> {
      throw new IOException("disk on fire");
    };
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      IOException e = assertThrows(IOException.class, () -> ServingExporter.exportNextVersion(m, root, "m"));
      assertEquals("disk on fire", e.getMessage());
    } finally {
      ServingExporter.beforePublish = tmp -> {};
    }
    try (Stream<Path> s = Files.list(root.resolve("m"))) {
      assertEquals(List.of(), s.toList());
    }
  }

  @Test
  void sigkillDuringExportLeavesNoVersionDirectory(@TempDir Path root) throws Exception {
    Path marker = root.resolve("about-to-publish");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                KillDuringExportMain.class.getName(),
                root.toString(),
                marker.toString())
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("child.log").toFile())
            .start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertTrue(Files.exists(marker), "child never reached the publish step: " + Files.readString(root.resolve("child.log")));
    } finally {
      p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks.
      p.waitFor(30, TimeUnit.SECONDS);
    }
    Path base = root.resolve("m");
    assertTrue(ServingExporter.latestVersion(base).isEmpty());
    try (Stream<Path> s = Files.list(base)) {
      // The child's fully written temporary directory and its claim on version 1 are left, under names TensorFlow
      // Serving ignores.
      assertTrue(
          s.allMatch(d -> d.getFileName().toString().startsWith(".tmp-1-") || d.getFileName().toString().equals(".claim-1")));
    }
    // The next export publishes version 1 and removes the dead process's temporary directory.
    Path live = Files.createDirectories(
        base.resolve(".tmp-9-" + ServingExporter.HOST + "-" + ProcessHandle.current().pid() + "-" + java.util.UUID.randomUUID()));
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      Path v = ServingExporter.exportNextVersion(m, root, "m");
      assertEquals("1", v.getFileName().toString());
      assertFalse(Files.exists(base.resolve("2")));
    }
    try (Stream<Path> s = Files.list(base)) {
      // Only the version and the temporary directory of a process that still runs (this one) remain.
      assertEquals(List.of(live.getFileName().toString(), "1"), s.map(d -> d.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void sigkillAtRandomMomentsLeavesOnlyCompleteVersions(@TempDir Path root) throws Exception {
    long seed = System.nanoTime();
    java.util.Random random = new java.util.Random(seed);
    for (int round = 0; round < 1; round++) {
      Path marker = root.resolve("published-" + round);
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  KillDuringExportMain.class.getName(),
                  root.toString(),
                  marker.toString(),
                  "loop")
              .redirectErrorStream(true)
              .redirectOutput(root.resolve("child.log").toFile())
              .start();
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.exists(marker) && p.isAlive() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertTrue(Files.exists(marker), "child published nothing: " + Files.readString(root.resolve("child.log")));
        // Somewhere in the middle of a later export (each takes tens of milliseconds).
        Thread.sleep(random.nextInt(300));
      } finally {
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
      // Every version directory Serving could see is complete: it passes the checks and predicts.
      List<Inspection> versions = Inspection.of(root.resolve("m"));
      for (Inspection i : versions) {
        assertEquals(List.of(), i.errors(), "seed " + seed + ": " + i.dir());
        // Eight predict and eight classify requests.
        assertEquals(16, i.warmupRecords(), "seed " + seed + ": " + i.dir());
        assertTrue(i.manifest().strip().endsWith("}"), "seed " + seed + ": " + i.dir());
      }
      // The newest version, the one published last before the kill, loads and predicts.
      try (Predictor pr = Predictor.load(root.resolve("m"))) {
        assertEquals(3, pr.predict(new float[][] {new float[5]}).probabilities()[0].length);
      }
      System.out.printf(
          "SIGKILL round %d (seed %d): %d complete versions, %d interrupted temporary directories%n",
          round, seed, versions.size(), versions.get(versions.size() - 1).warnings().size());
    }
  }
}
