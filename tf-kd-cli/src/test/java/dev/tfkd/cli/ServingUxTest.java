package dev.tfkd.cli;

import static dev.tfkd.cli.DemoCommandTest.tfkd;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.export.Manifest;
import dev.tfkd.export.Predictor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.types.TString;

/**
 * Class names from an image folder to the classify signature, the manifest, {@code tfkd predict} and {@link
 * Predictor}; {@code --name} and the signature rule between versions; predictions for unlabelled and non-finite data;
 * the serving config leaving out models that cannot serve.
 */
class ServingUxTest {
  @TempDir static Path root;
  static Path images;
  static Path exports;
  static Path teacher;

  /** 8x8 grey images, three classes told apart by brightness. */
  @BeforeAll
  static void imageFolderTeacher() throws Exception {
    images = root.resolve("animals");
    String[] classes = {"cat", "dog", "zebra"};
    for (int c = 0; c < 3; c++) {
      Files.createDirectories(images.resolve(classes[c]));
      for (int i = 0; i < 12; i++) {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) {
          for (int x = 0; x < 8; x++) {
            int v = 30 + 90 * c + ((x * 7 + y * 3 + i) % 20);
            img.getRaster().setSample(x, y, 0, v);
          }
        }
        ImageIO.write(img, "png", images.resolve(classes[c] + "/" + i + ".png").toFile());
      }
    }
    exports = root.resolve("exports");
    var r =
        tfkd(
            "train-teacher", "--train", images.toString(), "--model", "mlp:16", "--epochs", "2", "--threads", "1",
            "--run-dir", root.resolve("run-img").toString(), "--export-dir", exports.toString(), "--name", "animals");
    assertEquals(0, r.code(), r.err());
    teacher = exports.resolve("animals/1");
  }

  private static byte[] example(float[] values) {
    FloatList.Builder f = FloatList.newBuilder();
    for (float v : values) {
      f.addValue(v);
    }
    return Example.newBuilder()
        .setFeatures(Features.newBuilder().putFeature("x", Feature.newBuilder().setFloatList(f).build()))
        .build()
        .toByteArray();
  }

  @Test
  void imageFolderClassNamesReachClassifyManifestPredictorAndPredict() throws Exception {
    // Everything, evaluation.json included, was published with the version.
    assertTrue(Files.isRegularFile(teacher.resolve("evaluation.json")));
    float[] bright = new float[64];
    java.util.Arrays.fill(bright, 0.9f);
    try (SavedModelBundle b = SavedModelBundle.load(teacher.toString(), "serve");
        TString in = TString.tensorOfBytes(NdArrays.vectorOfObjects(example(bright)));
        Result r = b.function("classify").call(Map.of("inputs", in))) {
      TString classes = (TString) r.get("classes").orElseThrow();
      assertArrayEquals(new long[] {1, 3}, classes.shape().asArray());
      assertEquals(List.of("cat", "dog", "zebra"), List.of(classes.getObject(0, 0), classes.getObject(0, 1), classes.getObject(0, 2)));
    }
    String manifest = Files.readString(teacher.resolve(Manifest.FILE));
    assertTrue(manifest.replaceAll("\\s", "").contains("\"class_labels\":[\"cat\",\"dog\",\"zebra\"]"), manifest);
    try (Predictor p = Predictor.load(teacher)) {
      assertEquals(List.of("cat", "dog", "zebra"), p.classNames());
      // The model's own probabilities output, not a softmax computed here: they sum to 1 within float32 rounding.
      Predictor.Prediction pr = p.predict(new float[][] {bright});
      double sum = 0;
      for (float v : pr.probabilities()[0]) {
        sum += v;
      }
      assertEquals(1.0, sum, 1e-5);
      float[] bad = bright.clone();
      bad[5] = Float.NaN;
      var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> p.predict(new float[][] {bright, bad}));
      assertTrue(e.getMessage().startsWith("row 1, column 5 is NaN"), e.getMessage());
    }
    try (Predictor p = Predictor.load(teacher, Predictor.Options.DEFAULT.withAllowNonFinite(true))) {
      float[] bad = bright.clone();
      bad[5] = Float.POSITIVE_INFINITY;
      assertEquals(1, p.predict(new float[][] {bad}).classes().length);
    }
    var r = tfkd("predict", "--model", teacher.toString(), "--data", images.toString(), "--format", "jsonl");
    assertEquals(0, r.code(), r.err());
    String first = r.out().lines().findFirst().orElseThrow();
    assertTrue(first.matches("\\{\"index\":0,\"class\":[0-2],\"name\":\"(cat|dog|zebra)\",\"label\":0,.*"), first);
  }

  @Test
  void predictTakesUnlabelledCsvAndTfRecordsWithFullPrecisionAndRefusesNaN(@TempDir Path tmp) throws Exception {
    StringBuilder csv = new StringBuilder();
    float[] row = new float[64];
    for (int i = 0; i < 64; i++) {
      row[i] = 0.1f + i / 640f;
      csv.append(i == 0 ? "" : ",").append(row[i]);
    }
    Path file = Files.writeString(tmp.resolve("unlabelled.csv"), csv + "\n" + csv + "\n");
    var r = tfkd("predict", "--model", teacher.toString(), "--data", file.toString(), "--format", "jsonl");
    assertEquals(0, r.code(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(2, lines.size());
    assertTrue(lines.get(0).contains("\"label\":null"), lines.get(0));
    // Round-trip floats: every printed probability reads back to exactly what the Predictor returns.
    float[] expected;
    try (Predictor p = Predictor.load(teacher)) {
      expected = p.predict(new float[][] {row}).probabilities()[0];
    }
    String probs = lines.get(0).replaceAll(".*\"probabilities\":\\[([^\\]]*)\\].*", "$1");
    String[] parts = probs.split(",");
    assertEquals(3, parts.length);
    for (int c = 0; c < 3; c++) {
      assertEquals(expected[c], Float.parseFloat(parts[c]), 0f, "class " + c);
    }

    Path records = tmp.resolve("examples.tfrecord");
    try (var out = Files.newOutputStream(records)) {
      dev.tfkd.io.TfRecord.write(out, example(row));
    }
    r = tfkd("predict", "--model", teacher.toString(), "--data", records.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().lines().skip(1).findFirst().orElseThrow().matches("0,[0-2],,(cat|dog|zebra),.*"), r.out());

    Path nan = Files.writeString(tmp.resolve("nan.csv"), csv.toString().replaceFirst("^[^,]*", "NaN") + "\n");
    r = tfkd("predict", "--model", teacher.toString(), "--data", nan.toString());
    assertEquals(2, r.code());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().contains("example 0, value 0") && r.err().contains("--allow-non-finite"), r.err());
    r = tfkd("predict", "--model", teacher.toString(), "--data", nan.toString(), "--allow-non-finite");
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void aNameKeepsModelsApartAndAChangedSignatureIsRefusedBeforeTraining() throws Exception {
    // gmm has 20 features and 10 classes: not the animals' interface.
    Path run = root.resolve("run-gmm");
    var r =
        tfkd(
            "train-teacher", "--train", "gmm", "--model", "mlp:8", "--epochs", "1", "--threads", "1", "--run-dir",
            run.toString(), "--export-dir", exports.toString(), "--name", "animals");
    assertEquals(2, r.code(), r.out());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().contains("differ from version 1") && r.err().contains("--force"), r.err());
    assertFalse(Files.exists(run), "refused before the run directory was made");
    // With --force the new interface is published as version 2, carrying the names of a --class-names file.
    Path names = Files.writeString(root.resolve("names.txt"), "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n");
    r =
        tfkd(
            "train-teacher", "--train", "gmm", "--model", "mlp:8", "--epochs", "1", "--threads", "1", "--run-dir",
            run.toString(), "--export-dir", exports.toString(), "--name", "animals", "--force", "--class-names",
            names.toString());
    assertEquals(0, r.code(), r.err());
    try (Predictor p = Predictor.load(exports.resolve("animals/2"))) {
      assertEquals(List.of("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"), p.classNames());
    }
    r =
        tfkd(
            "distill", "--teacher", teacher.toString(), "--train", images.toString(), "--model", "mlp:8", "--epochs", "1",
            "--threads", "1", "--run-dir", root.resolve("run-student").toString(), "--export-dir", exports.toString(),
            "--name", "animals-student");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.isDirectory(exports.resolve("animals-student/1")));
  }

  @Test
  void servingConfigLeavesOutModelsWithoutAServableVersion(@TempDir Path tmp) throws Exception {
    Path copyRoot = tmp.resolve("root");
    Files.createDirectories(copyRoot.resolve("empty/1"));
    Files.createDirectories(copyRoot.resolve("broken/1"));
    Files.writeString(copyRoot.resolve("broken/1/saved_model.pb"), "not a protocol buffer");
    ServingCommandsTest.copy(teacher, copyRoot.resolve("animals/1"));
    var r = tfkd("export", "--serving-config", copyRoot.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("name: \"animals\""), r.out());
    assertFalse(r.out().contains("empty") || r.out().contains("broken"), r.out());
    assertTrue(r.err().contains("warning: left out " + copyRoot.resolve("empty")), r.err());
    assertTrue(r.err().contains("warning: left out " + copyRoot.resolve("broken")), r.err());
  }

  @Test
  void predictorBenchmarkReportsThroughputLatencyAndMemory() {
    var r =
        tfkd("bench", "--predictor", teacher.toString(), "--predictions", "64", "--clients", "2", "--batch-sizes", "1,8");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("predictor batch=1 predictions=64 "), r.out());
    assertTrue(r.out().contains("predictor batch=8 predictions=64 "), r.out());
    assertTrue(r.out().matches("(?s).*predictor rss_after_warmup_mb=[0-9.]+ rss_end_mb=[0-9.]+.*"), r.out());
  }
}
