package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.export.serving.ClassificationRequest;
import dev.tfkd.export.serving.ClassifyLog;
import dev.tfkd.export.serving.Input;
import dev.tfkd.export.serving.ModelSpec;
import dev.tfkd.export.serving.PredictLog;
import dev.tfkd.export.serving.PredictRequest;
import dev.tfkd.export.serving.PredictionLog;
import dev.tfkd.export.serving.SessionRunLog;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.TfRecord;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * {@code inspect --check} ({@link Inspection}) against tampered copies of a real export: each kind of damage is an
 * error with its reason, the untampered export and exactly 1000 warm-up records pass, and every kind of damage to the
 * variables that the check reports is one TensorFlow's own loader refuses too (so the check is not stricter than the
 * loader there), while tf-kd's loader ({@link Predictor}) refuses it naming the model directory.
 */
class ServingCheckTest {
  @TempDir static Path work;
  static Path export;
  static Dataset test;

  @BeforeAll
  static void exportOnce() throws IOException {
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    test = g.sample(20, 2, "test");
    TrainedModel model =
        new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(5, 8, 3), g.sample(100, 1, "train"), new CrossEntropy(), null, work.resolve("train"));
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      export =
          ServingExporter.exportNextVersion(
              m, work.resolve("export"), "m", ExportOptions.withManifest(new Manifest()).withWarmup(test, 2, List.of(1, 3)));
    }
  }

  /** The kinds of damage, each with the words its error must contain. */
  enum Tamper {
    TRUNCATED_VARIABLES_DATA("beyond the end of variables.data-00000-of-00001", true),
    WRONG_SHARD_COUNT("variables.data-00000-of-00002", true),
    FLIPPED_BYTE_IN_TENSOR("do not match the index's CRC32C", true),
    DAMAGED_INDEX("not a readable checkpoint index", true),
    // TensorFlow loads a graph without a checkpoint (skipping the restore); its variables then fail at the first call.
    MISSING_INDEX("no variables/variables.index", false),
    MISSING_DATA("variables.data-00000-of-00001] is missing", true),
    MISSING_SAVED_MODEL("no saved_model.pb", false),
    GARBAGE_SAVED_MODEL("not a valid SavedModel", false),
    SERVE_GPU_ONLY("no meta graph tagged 'serve' alone", false),
    GARBAGE_WARMUP_PAYLOAD("record 0: not a tensorflow.serving.PredictionLog", false),
    EMPTY_WARMUP_RECORD("record 0: a PredictionLog without any request", false),
    DAMAGED_WARMUP_FRAMING("damaged record", false),
    UNKNOWN_SIGNATURE("signature 'nope', which the model does not have", false),
    UNKNOWN_INPUT_KEY("sends input [x], which the signature does not have", false),
    WRONG_INPUT_DTYPE("a DT_DOUBLE tensor; the signature takes DT_FLOAT", false),
    WRONG_INPUT_SHAPE("shape [1, 4]; the signature takes [-1, 5]", false),
    BAD_TENSOR_CONTENT("12 bytes of tensor_content for 5 DT_FLOAT values", false),
    CLASSIFY_WITHOUT_EXAMPLES("classify request to 'classify' without examples", false),
    CLASSIFY_TO_PREDICT_SIGNATURE("of method 'tensorflow/serving/predict' (needs tensorflow/serving/classify)", false),
    SESSION_RUN_LOG("TensorFlow Serving warms up only with predict", false),
    TOO_MANY_WARMUP_RECORDS("1001 records; TensorFlow Serving refuses to load a version with more than 1000", false);

    final String reason;
    final boolean variables;

    Tamper(String reason, boolean variables) {
      this.reason = reason;
      this.variables = variables;
    }
  }

  @ParameterizedTest
  @EnumSource(Tamper.class)
  void everyKindOfDamageIsAnErrorWithItsReason(Tamper t, @TempDir Path dir) throws Exception {
    Path v = copy(export, dir.resolve("m/1"));
    tamper(t, v);
    List<Inspection> found = Inspection.of(v.getParent());
    assertEquals(1, found.size());
    Inspection i = found.get(0);
    assertFalse(i.ok(), t + " passed the check");
    assertTrue(i.errors().stream().anyMatch(e -> e.contains(t.reason)), t + ": " + i.errors());
    if (t.variables) {
      // TensorFlow's loader refuses it as well ...
      assertThrows(Exception.class, () -> SavedModelBundle.load(v.toString(), "serve").close(), t + " loads in TensorFlow");
      // ... and tf-kd's loader names the model and the damage instead of TensorFlow's anonymous message.
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(v).close());
      assertTrue(e.getMessage().contains(v.toString()), e.getMessage());
    }
  }

  @Test
  void theUntamperedExportPasses() throws IOException {
    Inspection i = Inspection.of(export).get(0);
    assertEquals(List.of(), i.errors());
    assertEquals(8, i.warmupRecords());
  }

  @Test
  void warmupCoversBothSignaturesAtEveryBatchSize() throws Exception {
    List<byte[]> records = new ArrayList<>();
    assertEquals(null, WarmupCheck.frames(Files.readAllBytes(export.resolve(WarmupRecords.FILE)), records));
    assertEquals(8, records.size());
    int next = 0;
    int r = 0;
    for (int size : List.of(1, 3)) {
      int first = next;
      for (int i = 0; i < 2; i++, r++) {
        PredictRequest p = PredictionLog.parseFrom(records.get(r)).getPredictLog().getRequest();
        assertEquals("serving_default", p.getModelSpec().getSignatureName());
        TensorProto t = p.getInputsOrThrow("inputs");
        assertEquals(List.of((long) size, 5L), t.getTensorShape().getDimList().stream().map(TensorShapeProto.Dim::getSize).toList());
        float[] values = new float[size * 5];
        t.getTensorContent().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        float[] want = new float[size * 5];
        System.arraycopy(test.features(), next * 5, want, 0, want.length);
        dev.tfkd.testing.Assertions.assertAllClose(values, want, dev.tfkd.testing.Assertions.EXACT);
        next += size;
      }
      next = first;
      for (int i = 0; i < 2; i++, r++) {
        ClassificationRequest c = PredictionLog.parseFrom(records.get(r)).getClassifyLog().getRequest();
        assertEquals("classify", c.getModelSpec().getSignatureName());
        assertEquals(size, c.getInput().getExampleList().getExamplesCount());
        for (var ex : c.getInput().getExampleList().getExamplesList()) {
          List<Float> x = ex.getFeatures().getFeatureOrThrow("x").getFloatList().getValueList();
          for (int k = 0; k < 5; k++) {
            assertEquals(test.features()[next * 5 + k], x.get(k));
          }
          next++;
        }
      }
    }
  }

  @Test
  void exactlyAThousandWarmupRecordsPass(@TempDir Path dir) throws Exception {
    Path v = copy(export, dir.resolve("m/1"));
    writeWarmup(v, repeat(predict("serving_default", "inputs", floats(DataType.DT_FLOAT, 1, 5)), 1000));
    Inspection i = Inspection.of(v).get(0);
    assertEquals(List.of(), i.errors());
    assertEquals(1000, i.warmupRecords());
  }

  @Test
  void realSavedModelsWrittenByTensorFlowHaveSoundVariables() throws IOException {
    List<Path> real = dev.tfkd.testing.SharedData.savedModels();
    org.junit.jupiter.api.Assumptions.assumeFalse(real.isEmpty(), "shared/savedmodels is not on this machine");
    for (Path d : real) {
      assertEquals(List.of(), VariablesCheck.check(d), d.toString());
      assertTrue(VariablesCheck.readTable(Files.readAllBytes(d.resolve(VariablesCheck.INDEX))).size() > 1, d.toString());
    }
  }

  static void tamper(Tamper t, Path v) throws Exception {
    Path data = v.resolve("variables/variables.data-00000-of-00001");
    Path index = v.resolve("variables/variables.index");
    switch (t) {
      case TRUNCATED_VARIABLES_DATA -> {
        try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
          f.setLength(f.length() - 7);
        }
      }
      case WRONG_SHARD_COUNT -> Files.move(data, v.resolve("variables/variables.data-00000-of-00002"));
      case FLIPPED_BYTE_IN_TENSOR -> flip(data, 17);
      case DAMAGED_INDEX -> flip(index, 3);
      case MISSING_INDEX -> Files.delete(index);
      case MISSING_DATA -> Files.delete(data);
      case MISSING_SAVED_MODEL -> Files.delete(v.resolve("saved_model.pb"));
      case GARBAGE_SAVED_MODEL -> Files.write(v.resolve("saved_model.pb"), new byte[] {(byte) 0xff, 1, 2, 3, 4, 5});
      case SERVE_GPU_ONLY -> {
        SavedModel.Builder s = SavedModel.parseFrom(Files.readAllBytes(v.resolve("saved_model.pb"))).toBuilder();
        MetaGraphDef.Builder m = s.getMetaGraphsBuilder(0);
        m.getMetaInfoDefBuilder().clearTags().addAllTags(List.of("serve", "gpu"));
        Files.write(v.resolve("saved_model.pb"), s.build().toByteArray());
      }
      case GARBAGE_WARMUP_PAYLOAD -> writeWarmup(v, List.of(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 7, 7}));
      case EMPTY_WARMUP_RECORD -> writeWarmup(v, List.of(new byte[0]));
      case DAMAGED_WARMUP_FRAMING -> flip(v.resolve(WarmupRecords.FILE), 30);
      case UNKNOWN_SIGNATURE -> writeWarmup(v, List.of(predict("nope", "inputs", floats(DataType.DT_FLOAT, 1, 5))));
      case UNKNOWN_INPUT_KEY -> writeWarmup(v, List.of(predict("serving_default", "x", floats(DataType.DT_FLOAT, 1, 5))));
      case WRONG_INPUT_DTYPE -> writeWarmup(v, List.of(predict("", "inputs", floats(DataType.DT_DOUBLE, 1, 5))));
      case WRONG_INPUT_SHAPE -> writeWarmup(v, List.of(predict("serving_default", "inputs", floats(DataType.DT_FLOAT, 1, 4))));
      case BAD_TENSOR_CONTENT -> {
        TensorProto bad = floats(DataType.DT_FLOAT, 1, 5).toBuilder().setTensorContent(ByteString.copyFrom(new byte[12])).build();
        writeWarmup(v, List.of(predict("serving_default", "inputs", bad)));
      }
      case CLASSIFY_WITHOUT_EXAMPLES -> writeWarmup(v, List.of(classify("classify")));
      case CLASSIFY_TO_PREDICT_SIGNATURE -> writeWarmup(v, List.of(classify("serving_default")));
      case SESSION_RUN_LOG ->
          writeWarmup(v, List.of(PredictionLog.newBuilder().setSessionRunLog(SessionRunLog.getDefaultInstance()).build().toByteArray()));
      case TOO_MANY_WARMUP_RECORDS ->
          writeWarmup(v, repeat(predict("serving_default", "inputs", floats(DataType.DT_FLOAT, 2, 5)), 1001));
    }
  }

  static TensorProto floats(DataType dtype, int n, int width) {
    return TensorProto.newBuilder()
        .setDtype(dtype)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(n))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(width)))
        .setTensorContent(ByteString.copyFrom(new byte[n * width * (dtype == DataType.DT_DOUBLE ? 8 : 4)]))
        .build();
  }

  static byte[] predict(String signature, String input, TensorProto t) {
    return PredictionLog.newBuilder()
        .setPredictLog(PredictLog.newBuilder().setRequest(PredictRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setSignatureName(signature))
            .putInputs(input, t)))
        .build()
        .toByteArray();
  }

  static byte[] classify(String signature) {
    return PredictionLog.newBuilder()
        .setClassifyLog(ClassifyLog.newBuilder().setRequest(ClassificationRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setSignatureName(signature))
            .setInput(Input.getDefaultInstance())))
        .build()
        .toByteArray();
  }

  static List<byte[]> repeat(byte[] record, int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(record);
    }
    return out;
  }

  static void writeWarmup(Path v, List<byte[]> records) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] r : records) {
      TfRecord.write(out, r);
    }
    Files.write(v.resolve(WarmupRecords.FILE), out.toByteArray());
  }

  static void flip(Path file, int offset) throws IOException {
    byte[] b = Files.readAllBytes(file);
    b[offset] ^= 0x10;
    Files.write(file, b);
  }

  static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return to;
  }

}
