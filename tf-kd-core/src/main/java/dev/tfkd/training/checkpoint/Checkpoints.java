package dev.tfkd.training.checkpoint;

import com.google.protobuf.TextFormat;
import dev.tfkd.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.tensorflow.Session;

/**
 * A run's checkpoints in one directory, one subdirectory per epoch ({@code epoch-0003/} holding the training
 * graph's variables, optimizer slots included, and {@code state.pbtxt}), plus a {@code latest} file naming the
 * newest. Each checkpoint is written under a temporary name, forced to disk and renamed into place, and only then
 * does {@code latest} move to it: a process killed at any moment leaves the previous checkpoint intact and named.
 * The newest {@value #KEEP} are kept. Not thread-safe.
 */
public final class Checkpoints {
  static final int KEEP = 2;
  static final String VARIABLES = "variables";
  static final String STATE = "state.pbtxt";
  private static final String LATEST = "latest";
  private static final Pattern EPOCH_DIR = Pattern.compile("epoch-\\d{4,}");

  private final Path dir;

  /**
   * Checkpoints kept in {@code dir}; nothing is read or written until a method is called.
   *
   * @param dir the checkpoint directory
   */
  public Checkpoints(Path dir) {
    this.dir = dir;
  }

  /**
   * The checkpoint directory.
   *
   * @return the directory
   */
  public Path dir() {
    return dir;
  }

  /** A saved checkpoint: its {@code Session.save} prefix and the trainer state. */
  public record Saved(Path prefix, TrainerState state) {
    /** A float array saved beside the variables as {@code NAME.f32} (little-endian), of exactly {@code size} values. */
    public float[] floats(String name, int size) throws IOException {
      Path f = prefix.resolveSibling(name + ".f32");
      if (!Files.isRegularFile(f) || Files.size(f) != 4L * size) {
        throw new IllegalArgumentException(f + ": missing, or not " + size + " float32 values");
      }
      float[] out = new float[size];
      java.nio.ByteBuffer.wrap(Files.readAllBytes(f)).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
      return out;
    }
  }

  /**
   * Saves the variables of {@code session}, {@code state}, and training state kept outside the graph as named
   * float arrays; returns the published checkpoint.
   */
  public Saved save(Session session, TrainerState state, java.util.Map<String, float[]> arrays) throws IOException {
    Files.createDirectories(dir);
    String name = String.format("epoch-%04d", state.getEpochsDone());
    Path staged = Files.createTempDirectory(dir, "." + name + "-");
    try {
      session.save(staged.resolve(VARIABLES).toString());
      Files.writeString(staged.resolve(STATE), TextFormat.printer().printToString(state), StandardCharsets.UTF_8);
      for (var a : arrays.entrySet()) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * a.getValue().length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a.getValue());
        Files.write(staged.resolve(a.getKey() + ".f32"), b.array());
      }
      Path target = dir.resolve(name);
      // A checkpoint of this epoch can exist from a run killed after publishing it but before moving 'latest'.
      AtomicFiles.deleteRecursively(target);
      AtomicFiles.publishDirectory(staged, target);
      AtomicFiles.writeString(dir.resolve(LATEST), name + "\n");
      prune(name);
      return new Saved(target.resolve(VARIABLES), state);
    } finally {
      AtomicFiles.deleteRecursively(staged);
    }
  }

  /** The newest complete checkpoint, or empty when there is none. Half-written leftovers are ignored. */
  public Optional<Saved> latest() throws IOException {
    Path pointer = dir.resolve(LATEST);
    if (!Files.isRegularFile(pointer)) {
      return Optional.empty();
    }
    String name = Files.readString(pointer, StandardCharsets.UTF_8).strip();
    if (!EPOCH_DIR.matcher(name).matches()) {
      throw new IllegalArgumentException(pointer + ": does not name a checkpoint ('" + name + "')");
    }
    Path cp = dir.resolve(name);
    TrainerState.Builder state = TrainerState.newBuilder();
    try {
      TextFormat.merge(Files.readString(cp.resolve(STATE), StandardCharsets.UTF_8), state);
    } catch (TextFormat.ParseException e) {
      throw new IllegalArgumentException(cp.resolve(STATE) + ": " + e.getMessage(), e);
    }
    return Optional.of(new Saved(cp.resolve(VARIABLES), state.build()));
  }

  private void prune(String newest) throws IOException {
    List<Path> epochs = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> EPOCH_DIR.matcher(p.getFileName().toString()).matches()).sorted().forEach(epochs::add);
    }
    try (Stream<Path> s = Files.list(dir)) {
      // Staged checkpoints and temporary files of a process that was killed while writing them.
      for (Path p : (Iterable<Path>) s.filter(p -> p.getFileName().toString().startsWith("."))::iterator) {
        AtomicFiles.deleteRecursively(p);
      }
    }
    for (int i = 0; i < epochs.size() - KEEP; i++) {
      if (!epochs.get(i).getFileName().toString().equals(newest)) {
        AtomicFiles.deleteRecursively(epochs.get(i));
      }
    }
  }
}
