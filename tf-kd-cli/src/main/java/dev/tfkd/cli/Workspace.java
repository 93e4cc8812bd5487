package dev.tfkd.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Temporary work directories of commands. */
final class Workspace {
  private Workspace() {}

  static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temporary directory we could not remove is not worth failing the run for.
    }
  }
}
