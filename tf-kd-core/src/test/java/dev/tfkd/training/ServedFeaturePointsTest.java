package dev.tfkd.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.Dataset;
import dev.tfkd.export.ExportOptions;
import dev.tfkd.export.Inspection;
import dev.tfkd.export.Manifest;
import dev.tfkd.export.SavedModelClassifier;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.export.Signatures;
import dev.tfkd.features.LossSpec;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.Forward;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.graph.Init;
import dev.tfkd.graph.Variables;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.testing.Assertions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Feature points served by a SavedModel teacher instead of a zoo rebuild: an export's optional {@code features}
 * signature (absent by default, and then {@code saved_model.pb} is what it was), a teacher that serves that
 * signature's points per batch, and the loss the student's graph computes from them against the same loss with the
 * teacher rebuilt in the graph from the export's variables.
 */
class ServedFeaturePointsTest {
  /** A small convolutional model with a stage, a pooled vector and logits, as the zoo names them. */
  record ConvNet(int channels, int numClasses) implements Architecture {
    @Override
    public String name() {
      return "convnet-" + channels;
    }

    @Override
    public long[] inputShape() {
      return new long[] {6, 6, 1};
    }

    @Override
    public Forward build(Ops tf, Operand<TFloat32> x, Variables vars, Mode mode) {
      Operand<TFloat32> k = vars.weight(tf, "conv_kernel", Shape.of(3, 3, 1, channels), Init.HE_NORMAL, 9, 9 * channels);
      Operand<TFloat32> pre = tf.nn.conv2d(x, k, List.of(1L, 1L, 1L, 1L), "SAME");
      Operand<TFloat32> stage = tf.nn.relu(pre);
      Operand<TFloat32> pooled = tf.math.mean(stage, tf.constant(new int[] {1, 2}));
      Operand<TFloat32> w = vars.weight(tf, "fc_kernel", Shape.of(channels, numClasses), Init.GLOROT_UNIFORM, channels, numClasses);
      Operand<TFloat32> logits = tf.linalg.matMul(pooled, w);
      return new Forward(logits, List.of(), Map.of("stage1_pre", pre, "stage1", stage, "pooled", pooled));
    }
  }

  @TempDir static Path dir;
  static Architecture arch = new ConvNet(4, 3);
  static Dataset data;
  static TrainedModel trained;

  @BeforeAll
  static void train() {
    SplittableRandom r = new SplittableRandom(3);
    int n = 48;
    float[] x = new float[n * 36];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 3;
      for (int j = 0; j < 36; j++) {
        x[i * 36 + j] = (float) r.nextDouble() + (j % 3 == y[i] ? 1f : 0f);
      }
    }
    data = new Dataset("grid", x, y, new long[] {6, 6, 1}, 3, null);
    trained =
        new Trainer(new TrainConfig(2, 16, OptimizerConfig.adam(1e-2f), 5, 1), List.of())
            .train(arch, data, new CrossEntropy(), null, dir);
  }

  static Path export(String name, boolean features) throws Exception {
    try (InferenceModel m = trained.load(Trainer.sessionConfig(1))) {
      return ServingExporter.exportNextVersion(
          m, dir.resolve("export"), name,
          ExportOptions.withManifest(new Manifest()).withFeatures(features));
    }
  }

  static SavedModel read(Path version) throws Exception {
    return SavedModel.parseFrom(Files.readAllBytes(version.resolve("saved_model.pb")));
  }

  @Test
  void theFeaturesSignatureIsOptionalAndLeavesTheServingGraphAsItWas() throws Exception {
    Path plain = export("plain", false);
    Path withFeatures = export("features", true);
    SavedModel a = read(plain);
    SavedModel b = read(withFeatures);
    MetaGraphDef ma = a.getMetaGraphs(0);
    MetaGraphDef mb = b.getMetaGraphs(0);
    assertEquals(Set.of("serving_default", "classify"), ma.getSignatureDefMap().keySet());
    assertEquals(Set.of("serving_default", "classify", Signatures.FEATURES_KEY), mb.getSignatureDefMap().keySet());
    assertEquals(
        Set.of("stage1_pre", "stage1", "pooled", "logits"),
        mb.getSignatureDefMap().get(Signatures.FEATURES_KEY).getOutputsMap().keySet());
    // Without the features signature the export with it is the plain export, byte for byte: the graph, the other
    // signatures and everything else are the same.
    SavedModel stripped =
        b.toBuilder().setMetaGraphs(0, mb.toBuilder().removeSignatureDef(Signatures.FEATURES_KEY)).build();
    assertEquals(a, stripped);
    assertEquals(ma.getGraphDef(), mb.getGraphDef());
    assertArrayEquals(
        Files.readAllBytes(plain.resolve("variables/variables.data-00000-of-00001")),
        Files.readAllBytes(withFeatures.resolve("variables/variables.data-00000-of-00001")));
    String manifest = Files.readString(withFeatures.resolve(Manifest.FILE));
    assertTrue(manifest.contains("\"feature_points\""), manifest);
    assertTrue(manifest.contains("\"stage1\": [6, 6, 4]") || manifest.contains("\"stage1\":[6,6,4]"), manifest);
    assertFalse(Files.readString(plain.resolve(Manifest.FILE)).contains("feature_points"));
    // inspect --check accepts it, and the predictor still serves it.
    for (Inspection i : Inspection.of(withFeatures)) {
      assertTrue(i.ok(), i.errors().toString());
    }
    try (SavedModelClassifier p = SavedModelClassifier.load(plain);
        SavedModelClassifier q = SavedModelClassifier.load(withFeatures)) {
      assertArrayEquals(p.logits(data.features(), data.size()), q.logits(data.features(), data.size()));
    }
  }

  @Test
  void anExportServingItsPointsGivesTheLossOfTheRebuiltTeacher() throws Exception {
    Path version = export("teacher", true);
    LossSpec loss = LossSpec.parse("ce:1, at, pkt");
    TrainConfig config = new TrainConfig(1, 16, OptimizerConfig.adam(1e-2f), 9, 1);
    int b = 16;
    float[] x = java.util.Arrays.copyOf(data.features(), b * 36);
    int[] y = java.util.Arrays.copyOf(data.labels(), b);
    Architecture student = new ConvNet(5, 3);
    float rebuilt;
    FrozenTeacher frozen =
        FrozenTeacher.fromCheckpoint(arch, version.resolve("variables/variables"), Trainer.sessionConfig(1));
    try (Graph g = new Graph()) {
      TrainingGraph tg = TrainingGraph.build(g, student, loss, frozen, config, TrainingSetup.NONE);
      try (Session s = new Session(g);
          TFloat32 xt = TFloat32.tensorOf(Shape.of(b, 6, 6, 1), d -> d.asRawTensor().data().asFloats().write(x));
          TInt32 yt = TInt32.vectorOf(y);
          TFloat32 ep = TFloat32.scalarOf(0f);
          Result r = s.runner().feed(tg.x(), xt).feed(tg.labels(), yt).feed(tg.epoch(), ep).fetch(tg.terms().total()).run()) {
        rebuilt = ((TFloat32) r.get(0)).getFloat();
      }
    }
    float served;
    SavedModelTeacher.TeacherOptions options =
        SavedModelTeacher.TeacherOptions.DEFAULT.withFeatures(new SavedModelClassifier.FeatureBinding(true, Map.of()));
    try (SavedModelTeacher teacher = SavedModelTeacher.load(version, options); Graph g = new Graph()) {
      Map<String, long[]> shapes = teacher.featureShapes();
      assertEquals(List.of("logits", "pooled", "stage1", "stage1_pre"), List.copyOf(shapes.keySet()));
      assertArrayEquals(new long[] {6, 6, 4}, shapes.get("stage1"));
      BatchFeatures.Answer answer = teacher.answer(x, b);
      TrainingGraph tg = TrainingGraph.build(g, student, loss, null, config, TrainingSetup.NONE, shapes);
      try (Session s = new Session(g);
          TFloat32 xt = TFloat32.tensorOf(Shape.of(b, 6, 6, 1), d -> d.asRawTensor().data().asFloats().write(x));
          TInt32 yt = TInt32.vectorOf(y);
          TFloat32 ep = TFloat32.scalarOf(0f);
          TFloat32 zt = TFloat32.tensorOf(Shape.of(b, 3), d -> d.asRawTensor().data().asFloats().write(answer.logits()));
          TFloat32 st = point(answer, "stage1", b, shapes);
          TFloat32 sp = point(answer, "stage1_pre", b, shapes);
          TFloat32 pt = point(answer, "pooled", b, shapes);
          TFloat32 lt = point(answer, "logits", b, shapes)) {
        Session.Runner run =
            s.runner().feed(tg.x(), xt).feed(tg.labels(), yt).feed(tg.epoch(), ep).feed(tg.teacher(), zt)
                .feed(tg.teacherFeatures().get("stage1"), st).feed(tg.teacherFeatures().get("stage1_pre"), sp)
                .feed(tg.teacherFeatures().get("pooled"), pt).feed(tg.teacherFeatures().get("logits"), lt);
        try (Result r = run.fetch(tg.terms().total()).fetch(tg.terms().soft()).run()) {
          served = ((TFloat32) r.get(0)).getFloat();
          assertTrue(((TFloat32) r.get(1)).getFloat() > 0, "the feature terms must contribute");
        }
      }
    }
    assertTrue(Float.isFinite(rebuilt));
    Assertions.assertAllClose(new float[] {served}, new float[] {rebuilt}, Assertions.FLOAT32);
  }

  private static TFloat32 point(BatchFeatures.Answer a, String name, int b, Map<String, long[]> shapes) {
    return TFloat32.tensorOf(
        InferenceModel.batchShape(shapes.get(name), b), d -> d.asRawTensor().data().asFloats().write(a.points().get(name)));
  }

  @Test
  void aPerBatchTeacherServingPointsTrainsAFeatureLoss() throws Exception {
    Path version = export("online", true);
    SavedModelTeacher.TeacherOptions options =
        SavedModelTeacher.TeacherOptions.DEFAULT.withFeatures(new SavedModelClassifier.FeatureBinding(true, Map.of()));
    try (SavedModelTeacher teacher = SavedModelTeacher.load(version, options)) {
      TrainedModel m =
          new Trainer(new TrainConfig(2, 16, OptimizerConfig.adam(1e-2f), 9, 1), List.of())
              .trainOnline(
                  new ConvNet(5, 3), data, LossSpec.parse("ce:1, pkt"), teacher,
                  new Trainer.RunOptions(null, new dev.tfkd.training.checkpoint.Checkpoints(dir.resolve("ck-online")), false, false));
      double soft = m.history().get(m.history().size() - 1).soft();
      assertTrue(soft > 0 && Double.isFinite(soft), "soft loss " + soft);
      assertNotEquals(0, m.history().size());
    }
  }

  @Test
  void aFeatureTensorIsCheckedWhenTheTeacherLoads() throws Exception {
    Path version = export("refusals", true);
    Map<String, String> bad =
        Map.of(
            "no such tensor", "pooled=nope:0",
            "DT_INT64", "pooled=classes:0",
            "DT_STRING", "pooled=examples:0");
    for (var e : bad.entrySet()) {
      String[] nt = e.getValue().split("=");
      SavedModelTeacher.TeacherOptions options =
          SavedModelTeacher.TeacherOptions.DEFAULT.withFeatures(
              new SavedModelClassifier.FeatureBinding(false, Map.of(nt[0], nt[1])));
      IllegalArgumentException ex =
          assertThrows(IllegalArgumentException.class, () -> SavedModelTeacher.load(version, options).close());
      assertTrue(ex.getMessage().contains(e.getKey()), ex.getMessage());
      assertTrue(ex.getMessage().contains(version.toString()) && ex.getMessage().contains(nt[1]), ex.getMessage());
      assertEquals(1, ex.getMessage().lines().count(), ex.getMessage());
    }
  }
}
