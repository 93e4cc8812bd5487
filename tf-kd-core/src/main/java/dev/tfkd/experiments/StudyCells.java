package dev.tfkd.experiments;

import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.JsonReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The checkpoint of a study: one small JSON result file per cell ({@code <id>.json} under a root directory, {@code
 * id} a relative path such as {@code test/seed-1/few-shot-0.05/kd-mcmi}). A finished cell is never run again, so a
 * killed study continues where it stopped.
 *
 * <p>Several processes may work on one study: before running a cell a process creates {@code <id>.claim}
 * atomically ({@code CREATE_NEW}), holding {@code pid@host}; whoever fails to create it leaves the cell to its owner.
 * A claim whose process is gone (same host, pid no longer alive) is stale and is taken over. The result is published
 * atomically ({@link AtomicFiles#writeString}) and then the claim removed. Thread-safe across processes on one file
 * system; a claim from another host is never taken over (remove it by hand if that host died).
 */
public final class StudyCells {
  private final Path root;
  private final String me;

  /**
   * Cells under {@code root} (created when the first cell is written).
   *
   * @param root the study's cell directory
   */
  public StudyCells(Path root) {
    this.root = root;
    this.me = ProcessHandle.current().pid() + "@" + host();
  }

  /**
   * The result of a finished cell.
   *
   * @param id the cell
   * @return its members, or empty if it has not finished
   */
  public Optional<Map<String, Object>> read(String id) {
    Path p = file(id, ".json");
    try {
      return Optional.of(JsonReader.object(Files.readString(p, StandardCharsets.UTF_8)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(p + ": " + e.getMessage(), e);
    }
  }

  /**
   * Claims a cell for this process.
   *
   * @param id the cell
   * @return true if this process now owns it (and it has not finished); false if it has finished or another live
   *     process owns it
   */
  public boolean claim(String id) {
    if (read(id).isPresent()) {
      return false;
    }
    Path claim = file(id, ".claim");
    try {
      Files.createDirectories(claim.getParent());
      for (int attempt = 0; attempt < 2; attempt++) {
        try {
          Files.writeString(claim, me, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW,
              java.nio.file.StandardOpenOption.WRITE);
          // Another process may have finished the cell between our read and our claim.
          if (read(id).isPresent()) {
            Files.deleteIfExists(claim);
            return false;
          }
          return true;
        } catch (FileAlreadyExistsException e) {
          if (!stale(claim)) {
            return false;
          }
          Files.deleteIfExists(claim);
        }
      }
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether another live process holds a claim on {@code id}.
   *
   * @param id the cell
   * @return true while the cell is claimed by someone else and not stale
   */
  public boolean claimedElsewhere(String id) {
    Path claim = file(id, ".claim");
    try {
      String owner = Files.readString(claim, StandardCharsets.UTF_8).strip();
      return !owner.equals(me) && !stale(claim);
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Publishes a cell's result atomically and drops this process's claim.
   *
   * @param id the cell
   * @param json the result, one JSON object
   */
  public void finish(String id, String json) {
    try {
      Path p = file(id, ".json");
      Files.createDirectories(p.getParent());
      AtomicFiles.writeString(p, json.endsWith("\n") ? json : json + "\n");
      Files.deleteIfExists(file(id, ".claim"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Drops this process's claim on a cell that failed, so another run can take it. */
  public void release(String id) {
    try {
      Files.deleteIfExists(file(id, ".claim"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Every finished cell under {@code prefix}, in path order.
   *
   * @param prefix a relative folder such as {@code test}
   * @return the results
   */
  public List<Map<String, Object>> all(String prefix) {
    Path dir = root.resolve(prefix);
    List<Map<String, Object>> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
        String rel = root.relativize(p).toString().replace('\\', '/');
        out.add(read(rel.substring(0, rel.length() - ".json".length())).orElseThrow());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private Path file(String id, String suffix) {
    if (id.isEmpty() || id.startsWith("/") || id.contains("..")) {
      throw new IllegalArgumentException("bad cell id: " + id);
    }
    return root.resolve(id + suffix);
  }

  private boolean stale(Path claim) throws IOException {
    String owner;
    try {
      owner = Files.readString(claim, StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      return true;
    }
    int at = owner.indexOf('@');
    if (at < 1 || !owner.substring(at + 1).equals(host())) {
      return false;
    }
    try {
      long pid = Long.parseLong(owner.substring(0, at));
      return ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }
}
