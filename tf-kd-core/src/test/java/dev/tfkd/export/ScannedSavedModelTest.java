package dev.tfkd.export;

import static dev.tfkd.export.GraphSafetyTest.names;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.export.HostileSavedModels.Injected;
import dev.tfkd.export.HostileSavedModels.Io;
import dev.tfkd.export.HostileSavedModels.Placement;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.testing.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;

/** The two reported holes, the private copy the loader reads, and the real SavedModels. */
class ScannedSavedModelTest {
  /** A clean SavedModel {@code logits = inputs @ w} (3 inputs, 2 classes), TensorFlow 1 style like tf-kd's exports. */
  static Path cleanModel(Path dir) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("inputs").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      Variable<TFloat32> w = tf.withName("w").variable(tf.constant(new float[][] {{1, 0}, {0, 1}, {1, 1}}));
      Operand<TFloat32> logits = tf.withName("logits").linalg.matMul(x, w);
      try (Session s = new Session(g)) {
        try (var r = s.runner().fetch(w).run()) {
          // Runs w's initializer before the export saves it.
        }
        Signature sig =
            Signature.builder().methodName("tensorflow/serving/predict").input("inputs", x).output("logits", logits).build();
        SavedModelBundle.exporter(dir.toString()).withTags("serve").withFunction(SessionFunction.create(sig, s)).export();
      }
    }
    return dir;
  }

  /** {@code base}'s {serve} meta graph with {@code io} on {@code canary} at {@code placement}, run by the signature. */
  static MetaGraphDef.Builder wiredIntoSignature(Path base, Io io, Placement placement, Path canary) throws Exception {
    MetaGraphDef.Builder meta = ScannedSavedModel.read(base, Set.of("serve")).metaGraph().toBuilder();
    Injected inj = HostileSavedModels.inject(meta.getGraphDefBuilder(), io, placement, canary);
    HostileSavedModels.addControl(meta.getGraphDefBuilder(), HostileSavedModels.outputNode(meta, "serving_default"), inj.entryNode());
    return meta;
  }

  static SavedModel of(MetaGraphDef.Builder... metas) {
    SavedModel.Builder b = SavedModel.newBuilder().setSavedModelSchemaVersion(1);
    for (var m : metas) {
      b.addMetaGraphs(m);
    }
    return b.build();
  }

  static void predictOnce(Predictor p) {
    p.logits(new float[p.exampleSize()], 1);
  }

  @Test
  void theScanJudgesTheMetaGraphWhoseTagSetEqualsServe(@TempDir Path tmp) throws Exception {
    Path base = cleanModel(tmp.resolve("clean/1"));
    Path canary = tmp.resolve("canary");
    MetaGraphDef.Builder clean = ScannedSavedModel.read(base, Set.of("serve")).metaGraph().toBuilder();
    clean.getMetaInfoDefBuilder().clearTags().addTags("serve").addTags("gpu");
    MetaGraphDef.Builder evil = wiredIntoSignature(base, Io.WRITE_FILE, Placement.MAIN, canary);
    // The reported hole: a clean {serve, gpu} first, the evil {serve} second.
    Path dir = HostileSavedModels.write(of(clean, evil), base, tmp.resolve("evil/1"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(dir));
    assertTrue(e.getMessage().contains("op WriteFile at node 'evil_io' in the main graph"), e.getMessage());
    assertTrue(e.getMessage().contains("--allow-unsafe-ops"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SavedModelTeacher.load(dir));
    // tfkd inspect --check reports the same finding, for the same meta graph.
    Inspection i = Inspection.version(dir);
    assertTrue(i.warnings().stream().anyMatch(w -> w.contains("op WriteFile at node 'evil_io'")), i.warnings().toString());
    assertFalse(Files.exists(canary));
    try (Predictor p = Predictor.load(dir, Predictor.Options.DEFAULT.withAllowUnsafeOps(true))) {
      predictOnce(p);
    }
    assertTrue(Files.exists(canary), "the {serve} meta graph is the one loaded");

    // The other way round: the evil graph is {serve, gpu}, the clean one {serve}: it loads, and nothing is written.
    Files.delete(canary);
    clean.getMetaInfoDefBuilder().clearTags().addTags("serve");
    evil.getMetaInfoDefBuilder().clearTags().addTags("gpu").addTags("serve");
    Path ok = HostileSavedModels.write(of(evil, clean), base, tmp.resolve("ok/1"));
    try (Predictor p = Predictor.load(ok)) {
      predictOnce(p);
    }
    assertTrue(Inspection.version(ok).warnings().isEmpty());
    assertFalse(Files.exists(canary));
    // No exact {serve}: refused with the tag sets there are.
    Path none = HostileSavedModels.write(of(evil), base, tmp.resolve("none/1"));
    e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(none));
    assertTrue(e.getMessage().contains("no meta graph whose tag set is exactly [serve]"), e.getMessage());
    assertFalse(Inspection.version(none).ok());
  }

  @Test
  void saveV2OnTheServingPathIsRefusedEvenWhenTheSaverDefNamesIt(@TempDir Path tmp) throws Exception {
    Path base = cleanModel(tmp.resolve("clean/1"));
    Path canary = tmp.resolve("canary/ckpt");
    Files.createDirectories(canary.getParent());
    MetaGraphDef.Builder meta = wiredIntoSignature(base, Io.SAVE_V2, Placement.MAIN, canary);
    meta.getSaverDefBuilder().setSaveTensorName("evil_io");
    Path dir = HostileSavedModels.write(of(meta), base, tmp.resolve("evil/1"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(dir));
    assertTrue(e.getMessage().contains("op SaveV2 at node 'evil_io' in the main graph (checkpoint-write; run by"
        + " signature 'serving_default')"), e.getMessage());
    assertTrue(e.getMessage().contains("--allow-unsafe-ops"), e.getMessage());
    try (Stream<Path> s = Files.list(canary.getParent())) {
      assertEquals(0, s.count());
    }
    try (Predictor p = Predictor.load(dir, Predictor.Options.DEFAULT.withAllowUnsafeOps(true))) {
      assertEquals(List.of("SaveV2@evil_io@"), names(p.unsafeOps()));
      predictOnce(p);
    }
    assertTrue(Files.exists(Path.of(canary + ".index")), "allowed, the model checkpoints on every call");
  }

  /** Each way of reaching a function is followed by the scan, and each really runs the I/O (when allowed). */
  @ParameterizedTest
  @EnumSource(Placement.class)
  void ioInFunctionsReachedAnyWayIsRefusedAndReallyRuns(Placement placement, @TempDir Path tmp) throws Exception {
    Path base = cleanModel(tmp.resolve("clean/1"));
    Path canary = tmp.resolve("canary");
    Path dir = HostileSavedModels.write(of(wiredIntoSignature(base, Io.WRITE_FILE, placement, canary)), base, tmp.resolve("evil/1"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(dir));
    assertTrue(e.getMessage().contains("op WriteFile at node 'evil_io'"), e.getMessage());
    assertFalse(Files.exists(canary));
    try (Predictor p = Predictor.load(dir, Predictor.Options.DEFAULT.withAllowUnsafeOps(true))) {
      predictOnce(p);
    }
    if (placement != Placement.CASE_LIST) {
      // (TensorFlow skips a Case without outputs built this way; the scan refuses it all the same.)
      assertTrue(Files.exists(canary), placement + ": the injected WriteFile runs, so the refusal is not vacuous");
    }
  }

  @Test
  void theRestorePathMayReadOnlyTheFileNameTheLoaderFeeds(@TempDir Path tmp) throws Exception {
    Path base = cleanModel(tmp.resolve("clean/1"));
    Path elsewhere = cleanModel(tmp.resolve("elsewhere/1")).resolve("variables/variables");
    MetaGraphDef.Builder meta = ScannedSavedModel.read(base, Set.of("serve")).metaGraph().toBuilder();
    var graph = meta.getGraphDefBuilder();
    graph.addNode(HostileSavedModels.constant("other_ckpt", HostileSavedModels.strings(elsewhere.toString())));
    String restore = null;
    for (NodeDef.Builder n : graph.getNodeBuilderList()) {
      if (n.getOp().equals("RestoreV2")) {
        n.setInput(0, "other_ckpt");
        restore = n.getName();
      }
    }
    Path dir = HostileSavedModels.write(of(meta), base, tmp.resolve("evil/1"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(dir));
    assertTrue(e.getMessage().contains("op RestoreV2 at node '" + restore + "' in the main graph (checkpoint-read from a"
        + " file name other than the one the loader feeds"), e.getMessage());
  }

  @Test
  void whatIsLoadedIsWhatWasScannedAndTheCopyIsGone(@TempDir Path tmp) throws Exception {
    Path base = cleanModel(tmp.resolve("clean/1"));
    Path canary = tmp.resolve("canary");
    Path dir = HostileSavedModels.write(HostileSavedModels.read(base), base, tmp.resolve("m/1"));
    ScannedSavedModel scanned = ScannedSavedModel.read(dir, Set.of("serve"));
    assertEquals(List.of(), scanned.check(false));
    // Swapped after the scan: the evil graph must not be what runs.
    Files.write(dir.resolve("saved_model.pb"),
        of(wiredIntoSignature(base, Io.WRITE_FILE, Placement.MAIN, canary)).toByteArray());
    Path tmpRoot = Path.of(System.getProperty("java.io.tmpdir"));
    long before = privateCopies(tmpRoot);
    try (SavedModelBundle b = scanned.load(ConfigProto.getDefaultInstance())) {
      assertEquals(before, privateCopies(tmpRoot), "the private copy is deleted once loaded");
      try (var x = TFloat32.tensorOf(Shape.of(1, 3));
          var r = b.session().runner().feed("inputs", x).fetch("logits").run()) {
        assertEquals(Shape.of(1, 2), r.get(0).shape());
      }
    }
    assertFalse(Files.exists(canary));
  }

  private static long privateCopies(Path tmpRoot) throws Exception {
    try (Stream<Path> s = Files.list(tmpRoot)) {
      return s.filter(p -> p.getFileName().toString().startsWith("tfkd-load-")).count();
    }
  }

  @Test
  void aLinkInVariablesIsNotFollowed(@TempDir Path tmp) throws Exception {
    Path base = cleanModel(tmp.resolve("clean/1"));
    Path dir = HostileSavedModels.write(HostileSavedModels.read(base), base, tmp.resolve("m/1"));
    Path data = Files.list(dir.resolve("variables")).filter(p -> p.toString().contains(".data-")).findFirst().orElseThrow();
    Files.move(data, tmp.resolve("outside"));
    Files.createSymbolicLink(data, tmp.resolve("outside"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Predictor.load(dir));
    assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
  }

  @Test
  void realSavedModelsPassTheScanWithoutAllowUnsafeOps() throws Exception {
    List<Path> models = SharedData.savedModels();
    Assumptions.assumeFalse(models.isEmpty(), "shared/savedmodels is not present");
    for (Path m : models) {
      assertEquals(List.of(), ScannedSavedModel.read(m, Set.of("serve")).scan(), m.toString());
      assertTrue(Inspection.version(m).warnings().isEmpty(), m + ": " + Inspection.version(m).warnings());
      if (m.toString().contains("keras")) {
        try (Predictor p = Predictor.load(m)) {
          predictOnce(p);
        }
      } else if (m.toString().contains("tf2")) {
        // Its input has an unknown rank (Predictor needs [batch, ...]): loaded as a bundle from the private copy.
        try (SavedModelBundle b = ScannedSavedModel.read(m, Set.of("serve")).load(ConfigProto.getDefaultInstance())) {
          assertTrue(b.metaGraphDef().containsSignatureDef("serving_default"));
        }
      }
      // (The TensorFlow 1 model declares a float input for a string tensor, which TensorFlow Java refuses to load.)
    }
  }
}
