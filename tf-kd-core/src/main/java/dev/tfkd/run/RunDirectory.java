package dev.tfkd.run;

import dev.tfkd.config.ConfigException;
import dev.tfkd.config.RunConfig;
import dev.tfkd.config.RunConfigs;
import dev.tfkd.export.Manifest;
import dev.tfkd.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The directory of one run and its layout: {@value RunConfigs#FILE_NAME} (the resolved configuration, what
 * {@code --resume} reads), {@value #RUN_ID_FILE} (the run's identity, recorded in the manifest of its export),
 * {@code checkpoints/}, {@code metrics/}, {@code tensorboard/}, {@code results.json}, {@code report/}, {@code
 * export/} (the default export root) and, for a second phase, a sub-directory with its own checkpoints and logs
 * (e.g. {@code finetune/}).
 *
 * <p>Nothing is written until {@link #create(RunConfig)}; a run refused afterwards but before training removes
 * what it created with {@link #abandon()}.
 */
public final class RunDirectory {
  /** The file holding the run's identity. */
  public static final String RUN_ID_FILE = "run-id";

  private final Path path;
  /** The outermost directory {@link #create} made, or null: what {@link #abandon} removes. */
  private Path created;

  private RunDirectory(Path path) {
    this.path = path;
  }

  /**
   * The run directory at {@code path} (nothing is read or written).
   *
   * @param path the directory
   * @return the run directory
   */
  public static RunDirectory at(Path path) {
    return new RunDirectory(path);
  }

  /**
   * The directory.
   *
   * @return the path
   */
  public Path path() {
    return path;
  }

  /**
   * The saved configuration file.
   *
   * @return {@code RUN_DIR/run_config.pbtxt}
   */
  public Path configFile() {
    return path.resolve(RunConfigs.FILE_NAME);
  }

  /**
   * Whether a run was started here (its configuration was saved).
   *
   * @return true when the configuration file exists
   */
  public boolean holdsRun() {
    return Files.exists(configFile());
  }

  /**
   * The directory of a later phase of the run (its own checkpoints and logs), e.g. {@code finetune}.
   *
   * @param name the phase's folder name
   * @return {@code RUN_DIR/name}
   */
  public Path phase(String name) {
    return path.resolve(name);
  }

  /**
   * {@code results.json}.
   *
   * @return {@code RUN_DIR/results.json}
   */
  public Path results() {
    return path.resolve("results.json");
  }

  /**
   * The report's directory.
   *
   * @return {@code RUN_DIR/report}
   */
  public Path report() {
    return path.resolve("report");
  }

  /**
   * Where the export goes when no export root is given.
   *
   * @return {@code RUN_DIR/export}
   */
  public Path defaultExportRoot() {
    return path.resolve("export");
  }

  /**
   * Refuses a directory that already holds a run, naming the two ways on.
   *
   * @throws ConfigException naming {@code resume} and {@code output.run_dir}
   */
  public void requireNew() {
    if (holdsRun()) {
      throw new ConfigException(
          path + ": already holds a run; continue it with {resume} " + path + ", or choose another {output.run_dir}");
    }
  }

  /**
   * The saved configuration of the run here, over {@code defaults}, validated, its run directory set to where it
   * now is (the directory may have moved).
   *
   * @param defaults the configuration the saved file is merged over (the fields it does not set)
   * @return the saved configuration
   * @throws IllegalArgumentException if no run was started here or its configuration is invalid
   */
  public RunConfig loadConfig(RunConfig defaults) {
    if (!Files.isRegularFile(configFile())) {
      throw new IllegalArgumentException(path + ": not a run directory (no " + RunConfigs.FILE_NAME + ")");
    }
    RunConfig saved = RunConfigs.validate(RunConfigs.mergeFile(defaults, configFile()));
    return saved.toBuilder().setOutput(saved.getOutput().toBuilder().setRunDir(path.toString())).build();
  }

  /**
   * Creates the directory, checks that it can be written and saves {@code config} and a fresh run identity. Call
   * only once every check has passed: from here on the run leaves files behind.
   *
   * @param config the configuration to save
   * @throws IOException if writing fails
   * @throws IllegalArgumentException if the directory cannot be created or written
   */
  public void create(RunConfig config) throws IOException {
    Path outermost = path.toAbsolutePath();
    while (outermost.getParent() != null && !Files.exists(outermost.getParent())) {
      outermost = outermost.getParent();
    }
    boolean existed = Files.exists(path);
    try {
      Files.createDirectories(path);
      if (!existed) {
        created = outermost;
      }
      Path probe = Files.createTempFile(path, ".probe-", ".tmp");
      Files.delete(probe);
    } catch (IOException e) {
      abandon();
      throw new IllegalArgumentException(path + ": cannot write the run directory (" + e.getMessage() + ")");
    }
    RunConfigs.save(config, path);
    runId();
  }

  /** Removes what {@link #create} made (if it made the directory), for a run refused before its first step. */
  public void abandon() {
    if (created != null) {
      try {
        AtomicFiles.deleteRecursively(created);
      } catch (IOException e) {
        // Best effort: the refusal that led here is what the user must see.
      }
      created = null;
    }
  }

  /**
   * The run's identity, made and saved on first use (a run started before identities existed gets one now).
   *
   * @return the identity, a random UUID
   * @throws IOException if it cannot be read or saved
   */
  public String runId() throws IOException {
    Path f = path.resolve(RUN_ID_FILE);
    if (Files.isRegularFile(f)) {
      String id = Files.readString(f, StandardCharsets.UTF_8).strip();
      if (!id.isEmpty()) {
        return id;
      }
    }
    String id = UUID.randomUUID().toString();
    AtomicFiles.writeString(f, id + "\n");
    return id;
  }

  /**
   * The version of {@code exportRoot/name} this run already published, if any: the newest version whose manifest
   * records this run's identity. A run resumed after its export was published finds it here instead of publishing
   * a second, identical version.
    *
   * @param exportRoot the export root
   * @param name the model's name under it
   * @return the published version directory, or empty
   * @throws IOException if a manifest cannot be read
   */
  public Optional<Path> publishedExport(Path exportRoot, String name) throws IOException {
    Path base = exportRoot.resolve(name);
    if (!Files.isDirectory(base) || !Files.isRegularFile(path.resolve(RUN_ID_FILE))) {
      return Optional.empty();
    }
    String marker = "\"" + runId() + "\"";
    try (Stream<Path> versions = Files.list(base)) {
      for (Path v :
          versions
              .filter(p -> p.getFileName().toString().matches("\\d{1,18}") && Files.isDirectory(p))
              .sorted(Comparator.comparingLong((Path p) -> Long.parseLong(p.getFileName().toString())).reversed())
              .toList()) {
        Path manifest = v.resolve(Manifest.FILE);
        if (Files.isRegularFile(manifest)
            && Files.readString(manifest, StandardCharsets.UTF_8).contains(marker)) {
          return Optional.of(v);
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
