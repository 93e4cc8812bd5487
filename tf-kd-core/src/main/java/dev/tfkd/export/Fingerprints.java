package dev.tfkd.export;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FingerprintDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.VersionDef;

/**
 * The {@code fingerprint.pb} TensorFlow 2.11+ writes beside {@code saved_model.pb}: a {@code FingerprintDef} of five
 * 64-bit hashes, computed as TensorFlow 2.18's {@code tensorflow/cc/saved_model/fingerprinting.cc} computes them
 * (producer 1). {@code Fingerprint64} is FarmHash's Fingerprint64 (Guava's {@code farmHashFingerprint64}),
 * {@code FingerprintCat64} TensorFlow's combination of two fingerprints, and every message is hashed in its
 * deterministic serialization (map entries sorted by key):
 *
 * <ol>
 *   <li>{@code saved_model_checksum}: Fingerprint64 of the SavedModel's deterministic serialization (for tf-kd's
 *       exports, which are written that way, the bytes of {@code saved_model.pb}; TensorFlow 2.14 hashed the file's
 *       bytes as they are);
 *   <li>{@code graph_def_program_hash}: Fingerprint64 of the first meta graph's GraphDef after TensorFlow's
 *       regularization: function-call nodes ({@code PartitionedCall}, {@code StatefulPartitionedCall}) lose the
 *       numeric suffix of their function name and the value of their {@code config_proto}, string constants lose
 *       their value, and the function library and versions are emptied (present, as empty messages);
 *   <li>{@code signature_def_hash}: starting from 0, FingerprintCat64 with Fingerprint64 of each signature key and
 *       of its SignatureDef, in key order;
 *   <li>{@code saved_object_graph_hash}: the same over the object graph's concrete functions, by the numeric suffix
 *       of their names (0 without an object graph, as in tf-kd's exports);
 *   <li>{@code checkpoint_hash}: Fingerprint64 of {@code variables/variables.index}, 0 without one.
 * </ol>
 *
 * <p>Checked against a {@code fingerprint.pb} written by TensorFlow 2.14 (FingerprintsTest): the four hashes other
 * than {@code saved_model_checksum} agree, and that one is the Fingerprint64 of its file.
 */
public final class Fingerprints {
  private Fingerprints() {}

  /** The file name, beside {@code saved_model.pb}. */
  public static final String FILE = "fingerprint.pb";

  /** The producer version of the fingerprint algorithm above (TensorFlow's {@code kFingerprintProducer}). */
  public static final int PRODUCER = 1;

  private static final HashFunction FARMHASH = Hashing.farmHashFingerprint64();

  /** The fingerprint of the SavedModel in {@code dir}, from its files. */
  public static FingerprintDef of(Path dir) throws IOException {
    Path pb = dir.resolve("saved_model.pb");
    if (!Files.isRegularFile(pb)) {
      throw new NoSuchFileException(pb.toString(), null, "not a SavedModel: no saved_model.pb");
    }
    byte[] file = Files.readAllBytes(pb);
    SavedModel saved = SavedModel.parseFrom(file);
    if (saved.getMetaGraphsCount() == 0) {
      throw new IllegalArgumentException(pb + ": a SavedModel without meta graphs");
    }
    MetaGraphDef meta = saved.getMetaGraphs(0);
    Path index = dir.resolve(VariablesCheck.INDEX);
    long checkpoint = Files.isRegularFile(index) ? fingerprint64(Files.readAllBytes(index)) : 0;
    long objects = 0;
    TreeMap<Long, String> byUid = new TreeMap<>();
    for (String name : meta.getObjectGraphDef().getConcreteFunctionsMap().keySet()) {
      byUid.put(suffixUid(name), name);
    }
    for (var e : byUid.entrySet()) {
      String name = e.getValue();
      objects = fingerprintCat64(objects, fingerprint64(stripSuffix(name, Long.toString(e.getKey()))));
      objects = fingerprintCat64(objects, fingerprint64(deterministic(meta.getObjectGraphDef().getConcreteFunctionsOrThrow(name))));
    }
    return FingerprintDef.newBuilder()
        .setSavedModelChecksum(fingerprint64(deterministic(saved)))
        .setGraphDefProgramHash(fingerprint64(deterministic(regularize(meta.getGraphDef()))))
        .setSignatureDefHash(signatureHash(meta.getSignatureDefMap()))
        .setSavedObjectGraphHash(objects)
        .setCheckpointHash(checkpoint)
        .setVersion(VersionDef.newBuilder().setProducer(PRODUCER))
        .build();
  }

  /** Writes {@link #of}{@code (dir)} to {@code dir/}{@value #FILE}. */
  static void write(Path dir) throws IOException {
    Files.write(dir.resolve(FILE), deterministic(of(dir)));
  }

  static long signatureHash(Map<String, SignatureDef> signatures) {
    long h = 0;
    for (var e : new TreeMap<>(signatures).entrySet()) {
      h = fingerprintCat64(h, fingerprint64(e.getKey()));
      h = fingerprintCat64(h, fingerprint64(deterministic(e.getValue())));
    }
    return h;
  }

  /** TensorFlow's {@code graph_regularization::SimpleDelete}. */
  static GraphDef regularize(GraphDef graph) {
    GraphDef.Builder g = graph.toBuilder();
    for (NodeDef.Builder n : g.getNodeBuilderList()) {
      if (n.getOp().equals("PartitionedCall") || n.getOp().equals("StatefulPartitionedCall")) {
        AttrValue f = n.getAttrOrDefault("f", null);
        if (f != null) {
          String name = f.getFunc().getName();
          Long uid = suffixUidOrNull(name);
          if (uid != null) {
            String stripped = stripSuffix(name, Long.toString(uid));
            n.putAttr("f", f.toBuilder().setFunc(f.getFunc().toBuilder().setName(stripped)).build());
          }
        }
        AttrValue config = n.getAttrOrDefault("config_proto", null);
        if (config != null) {
          n.putAttr("config_proto", config.toBuilder().setS(com.google.protobuf.ByteString.EMPTY).build());
        }
      }
      if (n.getOp().equals("Const") && n.getAttrOrDefault("dtype", AttrValue.getDefaultInstance()).getType() == DataType.DT_STRING) {
        AttrValue v = n.getAttrOrDefault("value", null);
        if (v != null) {
          n.putAttr("value", AttrValue.getDefaultInstance());
        }
      }
    }
    // TensorFlow clears them through mutable_library() and mutable_versions(), which leaves both present: each is
    // serialized as an empty message, so here too.
    g.setLibrary(org.tensorflow.proto.FunctionDefLibrary.getDefaultInstance());
    g.setVersions(VersionDef.getDefaultInstance());
    return g.build();
  }

  /** absl::StripSuffix. */
  private static String stripSuffix(String s, String suffix) {
    return s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
  }

  /** The integer after the last '_' of a function name (TensorFlow's {@code GetSuffixUID}); else refused. */
  private static long suffixUid(String name) {
    Long uid = suffixUidOrNull(name);
    if (uid == null) {
      throw new IllegalArgumentException("function name '" + name + "' does not end in an integer");
    }
    return uid;
  }

  private static Long suffixUidOrNull(String name) {
    String last = name.substring(name.lastIndexOf('_') + 1);
    try {
      return last.matches("[+-]?[0-9]+") ? Long.parseLong(last) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** FarmHash Fingerprint64, as TensorFlow's {@code Fingerprint64}. */
  static long fingerprint64(byte[] bytes) {
    return FARMHASH.hashBytes(bytes).asLong();
  }

  static long fingerprint64(String s) {
    return fingerprint64(s.getBytes(StandardCharsets.UTF_8));
  }

  /** TensorFlow's {@code FingerprintCat64}: a non-commutative combination of two fingerprints. */
  static long fingerprintCat64(long fp1, long fp2) {
    final long mul = 0xc6a4a7935bd1e995L;
    long result = fp1 ^ mul;
    result ^= shiftMix(fp2 * mul) * mul;
    result *= mul;
    result = shiftMix(result) * mul;
    return shiftMix(result);
  }

  private static long shiftMix(long v) {
    return v ^ (v >>> 47);
  }

  /** The deterministic serialization (map entries in key order) of {@code m}, TensorFlow's too. */
  static byte[] deterministic(Message m) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(m.getSerializedSize());
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      m.writeTo(out);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
