package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.hash.Hashing;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.SharedData;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FingerprintDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.SavedModel;

/**
 * {@code fingerprint.pb} and reproducible exports: the fingerprint of a SavedModel written by TensorFlow matches the
 * one TensorFlow wrote; an export's fingerprint decodes as TensorFlow's {@code FingerprintDef} and matches a
 * recomputation written here independently of {@link Fingerprints}; two identical training runs export
 * byte-identical files; the meta graph records TensorFlow's version and the definitions of the ops it uses.
 */
class FingerprintsTest {
  @Test
  void matchesTheFingerprintTensorFlowWrote() throws Exception {
    Optional<Path> dir = SharedData.find("savedmodels/tf-serving-half-plus-two-tf2/00000123");
    Assumptions.assumeTrue(dir.isPresent(), "shared/savedmodels is not on this machine");
    FingerprintDef tf = FingerprintDef.parseFrom(Files.readAllBytes(dir.get().resolve(Fingerprints.FILE)));
    FingerprintDef ours = Fingerprints.of(dir.get());
    assertEquals(tf.getGraphDefProgramHash(), ours.getGraphDefProgramHash());
    assertEquals(tf.getSignatureDefHash(), ours.getSignatureDefHash());
    assertEquals(tf.getSavedObjectGraphHash(), ours.getSavedObjectGraphHash());
    assertEquals(tf.getCheckpointHash(), ours.getCheckpointHash());
    assertEquals(tf.getVersion().getProducer(), ours.getVersion().getProducer());
    // TensorFlow 2.14 (which wrote it) hashed the file's bytes, not in canonical order; 2.18 hashes the canonical
    // serialization, which is what tf-kd writes.
    assertEquals(tf.getSavedModelChecksum(), farm(Files.readAllBytes(dir.get().resolve("saved_model.pb"))));
    assertNotEquals(0, ours.getSavedObjectGraphHash(), "the sample has an object graph");
  }

  @Test
  void twoIdenticalRunsExportIdenticalBytesWithAFingerprint(@TempDir Path work) throws Exception {
    Path a = trainAndExport(work.resolve("a"));
    Path b = trainAndExport(work.resolve("b"));
    for (String f : List.of("saved_model.pb", Fingerprints.FILE, "variables/variables.index",
        "variables/variables.data-00000-of-00001", WarmupRecords.FILE)) {
      assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
    }
    byte[] pb = Files.readAllBytes(a.resolve("saved_model.pb"));
    SavedModel saved = SavedModel.parseFrom(pb);
    // Written canonically: map entries sorted, so re-serializing deterministically gives the same bytes.
    assertArrayEquals(pb, canonical(saved));

    FingerprintDef f = FingerprintDef.parseFrom(Files.readAllBytes(a.resolve(Fingerprints.FILE)));
    MetaGraphDef meta = saved.getMetaGraphs(0);
    assertEquals(1, f.getVersion().getProducer());
    assertEquals(farm(pb), f.getSavedModelChecksum());
    assertEquals(farm(Files.readAllBytes(a.resolve("variables/variables.index"))), f.getCheckpointHash());
    assertEquals(0, f.getSavedObjectGraphHash());
    long signatures = 0;
    for (var e : new TreeMap<>(meta.getSignatureDefMap()).entrySet()) {
      signatures = cat(signatures, farm(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      signatures = cat(signatures, farm(canonical(e.getValue())));
    }
    assertEquals(signatures, f.getSignatureDefHash());
    assertEquals(farm(canonical(regularized(meta.getGraphDef()))), f.getGraphDefProgramHash());

    MetaGraphDef.MetaInfoDef info = meta.getMetaInfoDef();
    assertEquals(org.tensorflow.TensorFlow.version(), info.getTensorflowVersion());
    assertEquals("unknown", info.getTensorflowGitVersion());
    List<String> ops = info.getStrippedOpList().getOpList().stream().map(OpDef::getName).toList();
    assertEquals(ops.stream().sorted().distinct().toList(), ops);
    for (NodeDef n : meta.getGraphDef().getNodeList()) {
      assertTrue(ops.contains(n.getOp()), n.getOp() + " missing from the stripped op list");
    }
    assertTrue(info.getStrippedOpList().getOpList().stream().allMatch(o -> o.getDescription().isEmpty() && o.getSummary().isEmpty()));
  }

  static Path trainAndExport(Path dir) throws Exception {
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    TrainedModel model =
        new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 3, 1), List.of())
            .train(new TinyMlp(5, 8, 3), g.sample(100, 1, "train"), new CrossEntropy(), null, dir.resolve("train"));
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      return ServingExporter.exportNextVersion(
          m, dir.resolve("export"), "m", ExportOptions.withManifest(null).withWarmup(g.sample(10, 2, "w"), 2, List.of(1, 4)));
    }
  }

  /** TensorFlow's graph regularization for the graphs tf-kd writes: string constants emptied, library and versions empty. */
  static GraphDef regularized(GraphDef g) {
    GraphDef.Builder b = g.toBuilder();
    for (NodeDef.Builder n : b.getNodeBuilderList()) {
      assertTrue(!n.getOp().endsWith("PartitionedCall"), "tf-kd graphs have no function calls");
      if (n.getOp().equals("Const") && n.getAttrOrThrow("dtype").getType() == DataType.DT_STRING) {
        n.putAttr("value", AttrValue.newBuilder().build());
      }
    }
    return b.setLibrary(org.tensorflow.proto.FunctionDefLibrary.newBuilder())
        .setVersions(org.tensorflow.proto.VersionDef.newBuilder())
        .build();
  }

  static byte[] canonical(Message m) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CodedOutputStream c = CodedOutputStream.newInstance(out);
    c.useDeterministicSerialization();
    m.writeTo(c);
    c.flush();
    return out.toByteArray();
  }

  static long farm(byte[] b) {
    return Hashing.farmHashFingerprint64().hashBytes(b).asLong();
  }

  /** FingerprintCat64 from tensorflow/tsl/platform/fingerprint.h. */
  static long cat(long fp1, long fp2) {
    long k = 0xc6a4a7935bd1e995L;
    long r = fp1 ^ k;
    long x = fp2 * k;
    r ^= (x ^ (x >>> 47)) * k;
    r *= k;
    r = (r ^ (r >>> 47)) * k;
    return r ^ (r >>> 47);
  }

}
