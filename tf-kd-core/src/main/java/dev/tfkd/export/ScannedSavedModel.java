package dev.tfkd.export;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;

/**
 * A SavedModel read once, judged, and loaded from the bytes that were judged: the one way tf-kd loads a SavedModel it
 * did not just write ({@link Predictor}, and through it teachers, {@code tfkd predict} and {@code tfkd evaluate}).
 *
 * <p>{@link #read} reads {@code saved_model.pb} into memory and picks the meta graph TensorFlow's loader picks: the
 * first whose tag set EQUALS the requested set (a {@code {serve, gpu}} meta graph is not what a {@code {serve}} load
 * gets). {@link #check} scans it with {@link GraphSafety}. {@link #load} then writes a private copy of the model into
 * a fresh temporary directory (created owner-only): a {@code saved_model.pb} holding only the chosen meta graph,
 * serialized from the scanned bytes, beside {@code variables/} and {@code assets/}; loads from there; and deletes
 * the copy, since TensorFlow reads those files only while loading (the restore op and the init op run then; the
 * session keeps the values in memory). Replacing or editing the original {@code saved_model.pb} after {@link #read}
 * changes nothing.
 *
 * <p>{@code variables/} and {@code assets/} files are hard-linked when the temporary directory is on the same file
 * system, else copied. They are data, not code (the scan has decided which ops read them), and a hard link pins the
 * file the scan saw even if the original name is replaced; only regular files are taken: a symbolic link, FIFO or
 * device is refused, and every entry of the private copy is checked again after linking, without following links.
 * Other files (fingerprint, warm-up records, Keras metadata) are not needed to load and are left out.
 *
 * <p>Before loading, the copy's checkpoint is checked ({@code VariablesCheck}: index, shard files, every tensor's
 * bytes and CRC32C): a damaged model is refused with an IllegalArgumentException naming the model directory and
 * what is wrong, as is any model TensorFlow's loader refuses.
 */
public final class ScannedSavedModel {
  private final Path dir;
  private final Set<String> tags;
  private final MetaGraphDef meta;

  private ScannedSavedModel(Path dir, Set<String> tags, MetaGraphDef meta) {
    this.dir = dir;
    this.tags = tags;
    this.meta = meta;
  }

  /**
   * Reads {@code dir/saved_model.pb} once and selects the meta graph whose tag set equals {@code tags}.
   *
   * @throws NoSuchFileException if there is no {@code saved_model.pb}
   * @throws IllegalArgumentException if it is not a SavedModel or has no meta graph with exactly those tags
   */
  public static ScannedSavedModel read(Path dir, Set<String> tags) throws IOException {
    Path pb = dir.resolve("saved_model.pb");
    if (!Files.isRegularFile(pb)) {
      throw new NoSuchFileException(pb.toString(), null, "not a SavedModel: no saved_model.pb");
    }
    SavedModel saved;
    try {
      saved = SavedModel.parseFrom(Files.readAllBytes(pb));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(pb + ": not a valid SavedModel protocol buffer (" + e.getMessage() + ")");
    }
    MetaGraphDef meta =
        select(saved, tags)
            .orElseThrow(
                () -> new IllegalArgumentException(
                    pb + ": no meta graph whose tag set is exactly " + new TreeSet<>(tags) + " (has " + tagSets(saved)
                        + "); TensorFlow loads only an exact match"));
    return new ScannedSavedModel(dir, Set.copyOf(tags), meta);
  }

  /** The meta graph TensorFlow's loader takes for {@code tags}: the first whose tag set equals it. */
  public static Optional<MetaGraphDef> select(SavedModel saved, Set<String> tags) {
    for (MetaGraphDef m : saved.getMetaGraphsList()) {
      if (Set.copyOf(m.getMetaInfoDef().getTagsList()).equals(tags)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** The tag sets of every meta graph, in file order, for messages. */
  public static List<Set<String>> tagSets(SavedModel saved) {
    List<Set<String>> out = new ArrayList<>();
    for (MetaGraphDef m : saved.getMetaGraphsList()) {
      out.add(new TreeSet<>(m.getMetaInfoDef().getTagsList()));
    }
    return out;
  }

  /** The directory read. */
  public Path directory() {
    return dir;
  }

  /** The meta graph that was read and that {@link #load} loads. */
  public MetaGraphDef metaGraph() {
    return meta;
  }

  /** The findings of {@link GraphSafety#scan(MetaGraphDef)} on the chosen meta graph. */
  public List<GraphSafety.Finding> scan() {
    return GraphSafety.scan(meta);
  }

  /**
   * Refuses (IllegalArgumentException naming op, node, function and {@code --allow-unsafe-ops}) a model with
   * findings unless {@code allowUnsafeOps}; returns the findings so the caller may warn.
   */
  public List<GraphSafety.Finding> check(boolean allowUnsafeOps) {
    return GraphSafety.check(meta, dir, allowUnsafeOps);
  }

  /**
   * Loads the scanned meta graph from a private copy (see the class comment) with {@code config}. The caller owns
   * the bundle.
   */
  public SavedModelBundle load(ConfigProto config) throws IOException {
    Path tmp = Files.createTempDirectory("tfkd-load-");
    try {
      SavedModel only = SavedModel.newBuilder().setSavedModelSchemaVersion(1).addMetaGraphs(meta).build();
      Files.write(tmp.resolve("saved_model.pb"), only.toByteArray());
      for (String sub : List.of("variables", "assets")) {
        Path from = dir.resolve(sub);
        if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
          linkTree(from, tmp.resolve(sub));
        } else if (Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
          throw new IllegalArgumentException(from + ": not a directory (a link or special file is not loaded)");
        }
      }
      checkRegular(tmp);
      // A damaged checkpoint fails inside the restore op with a message that names neither the model nor the file
      // ("Read less bytes than requested"): check it first, and name the model in whatever TensorFlow still refuses.
      List<String> problems = VariablesCheck.check(tmp);
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("corrupt SavedModel " + dir + ": " + problems.get(0));
      }
      try {
        return SavedModelBundle.loader(tmp.toString())
            .withTags(tags.toArray(String[]::new))
            .withConfigProto(config)
            .load();
      } catch (TensorFlowException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
        throw new IllegalArgumentException("TensorFlow cannot load the SavedModel " + dir + ": " + inModel(why, tmp), e);
      }
    } finally {
      deleteTree(tmp);
    }
  }

  /** {@code message} with the private copy's path replaced by the model's. */
  private String inModel(String message, Path tmp) {
    return message.replace(tmp.toString(), dir.toString());
  }

  /** Hard-links (or copies) every regular file under {@code from} to {@code to}; refuses anything else. */
  private static void linkTree(Path from, Path to) throws IOException {
    Files.createDirectory(to);
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(from)) {
      for (Path e : entries) {
        Path target = to.resolve(e.getFileName().toString());
        BasicFileAttributes a = Files.readAttributes(e, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (a.isDirectory()) {
          linkTree(e, target);
        } else if (a.isRegularFile()) {
          try {
            Files.createLink(target, e);
          } catch (FileSystemException | UnsupportedOperationException cross) {
            // Another file system (or no hard links): copy, without following a link swapped in meanwhile.
            Files.copy(e, target, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES);
          }
        } else {
          throw new IllegalArgumentException(e + ": not a regular file (links and special files are not loaded)");
        }
      }
    }
  }

  /** After linking: everything in the private copy is a plain file or directory (a swapped-in link is caught here). */
  private static void checkRegular(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile() && !a.isDirectory()) {
          throw new IllegalArgumentException(p + ": not a regular file (links and special files are not loaded)");
        }
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
