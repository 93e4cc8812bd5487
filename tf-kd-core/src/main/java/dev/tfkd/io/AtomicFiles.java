package dev.tfkd.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

/**
 * Crash-safe file publication: content goes to a temporary name in the same directory, is forced to disk, and is
 * renamed over the final name in one atomic step, then the directory entry itself is forced. A reader (or a run
 * resumed after a SIGKILL or a power cut) sees either the old file or the new one, never a torn one.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes {@code text} (UTF-8) to {@code target} atomically. */
  public static void writeString(Path target, String text) throws IOException {
    write(target, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes {@code bytes} to {@code target} atomically. */
  public static void write(Path target, byte[] bytes) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      move(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Publishes the finished directory {@code staged} as {@code target}, which must not exist: forces every file in
   * it and the directory itself, then renames it atomically (never over an existing {@code target}, not even an
   * empty one) and forces the parent.
   *
   * @throws java.nio.file.FileAlreadyExistsException if {@code target} exists
   */
  public static void publishDirectory(Path staged, Path target) throws IOException {
    try (Stream<Path> files = Files.walk(staged)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        force(p);
      }
    }
    if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new java.nio.file.FileAlreadyExistsException(target.toString());
    }
    try {
      Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(target + ": the file system cannot rename atomically, so outputs cannot be published safely", e);
    }
    force(target.toAbsolutePath().getParent());
  }

  /** Renames {@code from} to {@code to} atomically (replacing a file) and forces the parent directory. */
  public static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(to + ": the file system cannot rename atomically, so outputs cannot be published safely", e);
    }
    force(to.toAbsolutePath().getParent());
  }

  /** Forces a file or a directory (its entries) to disk; directories that cannot be opened are skipped. */
  public static void force(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        ch.force(true);
      } catch (IOException e) {
        // Some platforms (Windows) cannot open a directory; the rename is still atomic there.
      }
    } else {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
    }
  }

  /**
   * Deletes {@code dir} and everything in it as far as it can, ignoring failures: for temporary work directories,
   * whose leftovers are not worth failing a run for.
   */
  public static void deleteQuietly(Path dir) {
    try {
      deleteRecursively(dir);
    } catch (IOException | java.io.UncheckedIOException ignored) {
      // Best effort by contract.
    }
  }

  /** Deletes {@code dir} (or a single file) and everything in it, if it exists. Links are removed, not followed. */
  public static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
