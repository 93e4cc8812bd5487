package dev.tfkd.export;

import dev.tfkd.graph.InferenceModel;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.OptionalLong;
import java.util.UUID;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;

/**
 * Writes an {@link InferenceModel} as a SavedModel in TensorFlow Serving's layout: {@code
 * <root>/<name>/<version>/saved_model.pb} plus {@code variables/}, tag {@code serve}, signature {@code
 * serving_default} with method {@code tensorflow/serving/predict}.
 *
 * <p>Publishing is atomic: the SavedModel is written into a hidden temporary directory beside the version
 * directory, its files are flushed to disk, and it is then renamed into place, so a directory watcher (TensorFlow
 * Serving's) never sees a half-written version. On failure the temporary directory is removed.
 */
public final class ServingExporter {
  private ServingExporter() {}

  /** The tag set TensorFlow Serving loads. */
  public static final String SERVE_TAG = "serve";

  /**
   * Exports {@code model} as the next version of {@code <root>/<name>}.
   *
   * @return the published version directory
   */
  public static Path exportNextVersion(InferenceModel model, Path root, String name) throws IOException {
    Path base = root.resolve(name);
    Files.createDirectories(base);
    long version = latestVersion(base).orElse(0L) + 1;
    return export(model, base.resolve(Long.toString(version)));
  }

  /** Exports {@code model} to exactly {@code versionDir}, which must not exist yet. */
  public static Path export(InferenceModel model, Path versionDir) throws IOException {
    if (Files.exists(versionDir)) {
      throw new IOException("export target already exists: " + versionDir);
    }
    Path parent = versionDir.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = parent.resolve(".tmp-" + versionDir.getFileName() + "-" + UUID.randomUUID());
    try {
      SavedModelBundle.exporter(tmp.toString())
          .withTags(SERVE_TAG)
          .withFunction(SessionFunction.create(model.servingSignature(), model.session()))
          .export();
      fsyncTree(tmp);
      try {
        Files.move(tmp, versionDir, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("cannot publish " + versionDir + " atomically on this file system", e);
      }
      fsync(parent);
      return versionDir;
    } finally {
      deleteTree(tmp);
    }
  }

  /** The highest integer version directory under {@code base}, if any. Non-numeric names are ignored. */
  public static OptionalLong latestVersion(Path base) throws IOException {
    if (!Files.isDirectory(base)) {
      return OptionalLong.empty();
    }
    long best = -1;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, Files::isDirectory)) {
      for (Path d : dirs) {
        String s = d.getFileName().toString();
        if (s.matches("[0-9]{1,18}")) {
          best = Math.max(best, Long.parseLong(s));
        }
      }
    }
    return best < 0 ? OptionalLong.empty() : OptionalLong.of(best);
  }

  static void fsyncTree(Path dir) throws IOException {
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            fsync(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
            fsync(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  static void fsync(Path p) throws IOException {
    try (var ch =
        Files.isDirectory(p)
            ? java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.READ)
            : java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
