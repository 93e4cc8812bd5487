package dev.tfkd.export;

import dev.tfkd.data.Dataset;
import dev.tfkd.io.Json;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.TensorFlow;

/**
 * The provenance manifest written into each exported version as {@value #FILE} (inside the version directory, so it
 * is published atomically with the model; TensorFlow Serving ignores {@code assets.extra/} apart from its warm-up
 * file). A JSON object with: {@code format}, {@code versions} (tf-kd, TensorFlow, Java), {@code model}
 * (architecture, input shape, classes, preprocessing), and whatever the caller adds: {@code training} (the full
 * configuration), {@code seed}, {@code datasets} and {@code teacher} fingerprints, {@code evaluation} metrics.
 *
 * <p>Fingerprints are SHA-256 digests, in hex, of the features as little-endian float32 values followed by the labels
 * as little-endian int32 values (datasets), or of the logits as little-endian float32 values (teachers).
 */
public final class Manifest {
  /** Where the manifest lives, relative to the version directory. */
  public static final String FILE = "assets.extra/tfkd-manifest.json";

  private final Map<String, Object> fields = new LinkedHashMap<>();

  /** A manifest holding only the format and version fields; the exporter adds the model section. */
  public Manifest() {
    fields.put("format", "tfkd-manifest/1");
    Map<String, Object> versions = new LinkedHashMap<>();
    versions.put("tfkd", tfkdVersion());
    versions.put("tensorflow", TensorFlow.version());
    versions.put("java", System.getProperty("java.version"));
    fields.put("versions", versions);
  }

  /** tf-kd's version from the core jar's Maven metadata; {@code dev} when running from class folders. */
  static String tfkdVersion() {
    try (java.io.InputStream in =
        Manifest.class.getResourceAsStream("/META-INF/maven/dev.tfkd/tf-kd-core/pom.properties")) {
      if (in != null) {
        java.util.Properties p = new java.util.Properties();
        p.load(in);
        return p.getProperty("version", "dev");
      }
    } catch (java.io.IOException e) {
      // An unreadable version is not worth failing an export for.
    }
    return "dev";
  }

  /** Sets a top-level field (a map, record, list, string, number...); a later call with the same key replaces it. */
  public Manifest put(String key, Object value) {
    fields.put(key, value);
    return this;
  }

  /** Records {@code data}'s name, size, shape, classes and fingerprint under {@code datasets.<role>}. */
  public Manifest dataset(String role, Dataset data) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("name", data.name());
    d.put("examples", data.size());
    d.put("example_shape", data.exampleShape());
    d.put("classes", data.numClasses());
    d.put("sha256", fingerprint(data));
    section("datasets").put(role, d);
    return this;
  }

  /**
   * Records streamed data under {@code datasets.<role>}: its name, size, shape, classes and a fingerprint of its
   * shards (their contents are never all read at once, so the fingerprint is of names, sizes and record counts).
   */
  public Manifest streamedDataset(String role, String name, long examples, long[] shape, int classes, String shardsSha256) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("name", name);
    d.put("examples", examples);
    d.put("example_shape", shape);
    d.put("classes", classes);
    d.put("streamed", true);
    d.put("shards_sha256", shardsSha256);
    section("datasets").put(role, d);
    return this;
  }

  /**
   * Records the teacher: where it came from, how its output was read ({@code output}, omitted when empty) and the
   * SHA-256 of the logits it gave the student, computed by the caller (logits too large for memory are hashed as
   * they are read from disk), equal to {@link #fingerprint(float[])} of the same values.
   */
  public Manifest teacherDigest(String source, String output, String logitsSha256) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("source", source);
    if (!output.isEmpty()) {
      t.put("output", output);
    }
    t.put("logits_sha256", logitsSha256);
    fields.put("teacher", t);
    return this;
  }

  /** Records the teacher: where it came from and the SHA-256 of the logits it gave the student. */
  public Manifest teacher(String source, float[] logits) {
    return teacher(source, "", logits);
  }

  /**
   * Records the teacher: where it came from, how its output was read ({@code output}, omitted when empty) and the
   * SHA-256 of the logits it gave the student.
   */
  public Manifest teacher(String source, String output, float[] logits) {
    return teacher(source, output, List.of(), logits);
  }

  /**
   * Records the teacher: where it came from, how its output was read ({@code output}, omitted when empty), the ops
   * outside the allow-list its graph was let run ({@code unsafeOps}, {@link GraphSafety.Finding#describe()} each;
   * omitted when empty) and the SHA-256 of the logits it gave the student.
   */
  public Manifest teacher(String source, String output, List<String> unsafeOps, float[] logits) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("source", source);
    if (!output.isEmpty()) {
      t.put("output", output);
    }
    if (!unsafeOps.isEmpty()) {
      t.put("unsafe_ops", List.copyOf(unsafeOps));
    }
    t.put("logits_sha256", fingerprint(logits));
    fields.put("teacher", t);
    return this;
  }

  /** Records evaluation figures (a record such as {@code Evaluation}, or a map) under {@code evaluation.<split>}. */
  public Manifest evaluation(String split, Object metrics) {
    section("evaluation").put(split, metrics);
    return this;
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> section(String key) {
    return (Map<String, Object>) fields.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
  }

  /** A copy of the fields, in insertion order. */
  public Map<String, Object> fields() {
    return new LinkedHashMap<>(fields);
  }

  /** The manifest as indented JSON. */
  public String toJson() {
    return Json.write(fields);
  }

  /** SHA-256 (hex) of the features (float32 LE) then the labels (int32 LE) of {@code data}. */
  public static String fingerprint(Dataset data) {
    MessageDigest md = sha256();
    update(md, data.features());
    ByteBuffer buf = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    for (int label : data.labels()) {
      if (buf.remaining() < 4) {
        md.update(buf.array(), 0, buf.position());
        buf.clear();
      }
      buf.putInt(label);
    }
    md.update(buf.array(), 0, buf.position());
    return HexFormat.of().formatHex(md.digest());
  }

  /** SHA-256 (hex) of {@code values} as float32 LE. */
  public static String fingerprint(float[] values) {
    MessageDigest md = sha256();
    update(md, values);
    return HexFormat.of().formatHex(md.digest());
  }

  private static void update(MessageDigest md, float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : values) {
      if (buf.remaining() < 4) {
        md.update(buf.array(), 0, buf.position());
        buf.clear();
      }
      buf.putFloat(f);
    }
    md.update(buf.array(), 0, buf.position());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }
}
