package dev.tfkd.cli;

import dev.tfkd.export.Inspection;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.io.AtomicFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfkd export --serving-config ROOT}: a TensorFlow Serving model config for an export root. */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Write a TensorFlow Serving models.config for an export root.",
      "The file is a ModelServerConfig in text format with one config entry per model directory <ROOT>/<name> that holds at least one integer version passing the checks of 'tfkd inspect --check'; a model directory without one (an empty version directory, a broken export) is left out with a warning line, since TensorFlow Serving would fail to start on it.",
      "Base paths are absolute, or under --base-path (where the root is mounted in the server's container).",
      "examples/serving/serve.sh runs TensorFlow Serving on the file written here."
    },
    footer = {
      "",
      "Examples:",
      "  tfkd export --serving-config savedmodels/demo",
      "  tfkd export --serving-config savedmodels/demo --base-path /models --out savedmodels/demo/models.config",
      "  docker run -p 8501:8501 -v \"$PWD/savedmodels/demo:/models\" tensorflow/serving:2.18.0 \\",
      "    --model_config_file=/models/models.config"
    })
final class ExportCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--serving-config", required = true, paramLabel = "ROOT", description = "Export root holding <name>/<version>/ directories.")
  Path root;

  @Option(names = "--base-path", paramLabel = "PATH", description = "Where ROOT is seen by the server (default: ROOT's absolute path).")
  String basePath;

  @Option(names = "--out", paramLabel = "FILE", description = "Output file (default: ROOT/models.config); written atomically.")
  Path out;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String text = modelsConfig(root, basePath, w -> err.println("tfkd export: warning: " + w));
    Path target = out == null ? root.resolve("models.config") : out;
    AtomicFiles.write(target, text.getBytes(StandardCharsets.UTF_8));
    o.print(text);
    o.println("# written to " + target);
    return Errors.OK;
  }

  /**
   * The ModelServerConfig text for every model directory under {@code root} with at least one version that passes
   * the checks; each model directory left out is reported to {@code warnings} with its reason.
   */
  static String modelsConfig(Path root, String basePath, java.util.function.Consumer<String> warnings)
      throws IOException {
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException(root + ": no such directory");
    }
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path d : dirs) {
        if (ServingExporter.latestVersion(d).isEmpty()) {
          continue;
        }
        String problem = servable(d);
        if (problem == null) {
          names.add(d.getFileName().toString());
        } else {
          warnings.accept("left out " + d + ": " + problem);
        }
      }
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException(
          root + ": no model directories (<name>/<integer version>/saved_model.pb) to serve");
    }
    names.sort(null);
    String base = basePath != null ? basePath.replaceAll("/+$", "") : root.toAbsolutePath().normalize().toString();
    StringBuilder b = new StringBuilder("model_config_list {\n");
    for (String n : names) {
      b.append("  config {\n");
      b.append("    name: ").append(quote(n)).append('\n');
      b.append("    base_path: ").append(quote(base + "/" + n)).append('\n');
      b.append("    model_platform: \"tensorflow\"\n");
      b.append("  }\n");
    }
    return b.append("}\n").toString();
  }

  /**
   * Null when at least one integer version of the model directory {@code d} passes {@link Inspection}'s checks;
   * otherwise why none does (the latest version's first error).
   */
  private static String servable(Path d) throws IOException {
    List<Inspection> versions;
    try {
      versions = Inspection.of(d);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    String problem = "no version passes the checks";
    for (Inspection i : versions) {
      if (i.ok()) {
        return null;
      }
      problem = "version " + i.dir().getFileName() + ": " + (i.errors().isEmpty() ? "fails the checks" : i.errors().get(0));
    }
    return problem + " (see tfkd inspect --check " + d + ")";
  }

  /** A protobuf text-format string literal. */
  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }
}
