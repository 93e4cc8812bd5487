package dev.tfkd.cli;

import dev.tfkd.export.Inspection;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tfkd inspect DIR [--check]}: describes a SavedModel from its files, without loading (running) it. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Describe a SavedModel without loading it; --check its TensorFlow Serving conventions.",
      "Shows tags, signatures (tensor names, dtypes, shapes), variables, warm-up records and the tf-kd manifest. DIR is a version directory (<root>/<name>/<version>) or a model directory (<root>/<name>: every version is checked, the latest described).",
      "With --check, exit 2 with the reasons when the export breaks TensorFlow Serving's conventions; ops a serving model should not contain (file system and other I/O) are reported as warnings."
    },
    footer = {"", "Examples:", "  tfkd inspect savedmodels/demo/teacher/1", "  tfkd inspect --check savedmodels/demo/teacher"})
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "SavedModel version directory or model directory.")
  Path dir;

  @Option(names = "--check", description = "Check TensorFlow Serving's conventions; exit 2 if broken.")
  boolean check;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Inspection> all = Inspection.of(dir);
    Inspection latest = all.get(all.size() - 1);
    describe(o, latest);
    int bad = 0;
    for (Inspection i : all) {
      for (String w : i.warnings()) {
        err.println("tfkd inspect: warning: " + i.dir() + ": " + w);
      }
      for (String e : i.errors()) {
        bad++;
        (check ? err : o).println((check ? "tfkd inspect: " : "  problem: ") + i.dir() + ": " + e);
      }
    }
    if (check) {
      if (bad > 0) {
        err.flush();
        return Errors.BAD_INPUT;
      }
      o.printf(Locale.ROOT, "check: OK (%d version%s TensorFlow Serving's conventions)%n", all.size(), all.size() == 1 ? " follows" : "s follow");
    }
    return Errors.OK;
  }

  static void describe(PrintWriter o, Inspection i) {
    o.println("SavedModel " + i.dir());
    o.println("  tags: " + i.tags());
    for (var e : i.signatures().entrySet()) {
      SignatureDef s = e.getValue();
      o.println("  signature " + e.getKey() + " (" + s.getMethodName() + ")");
      tensors(o, "input ", s.getInputsMap());
      tensors(o, "output", s.getOutputsMap());
    }
    o.printf(
        Locale.ROOT, "  variables: %d, %,d values, %,d bytes%n", i.variables().size(), i.variableValues(), i.variableBytes());
    i.variables().forEach((name, type) -> o.println("    " + name + ": " + type));
    o.println("  warm-up records: " + (i.warmupRecords() < 0 ? "none" : Integer.toString(i.warmupRecords())));
    if (i.manifest() == null) {
      o.println("  manifest: none");
    } else {
      o.println("  manifest (" + dev.tfkd.export.Manifest.FILE + "):");
      i.manifest().lines().forEach(l -> o.println("    " + l));
    }
  }

  private static void tensors(PrintWriter o, String kind, java.util.Map<String, TensorInfo> m) {
    m.forEach(
        (k, t) -> o.println("    " + kind + " " + k + ": " + t.getName() + " " + t.getDtype() + " " + Inspection.shape(t.getTensorShape())));
  }
}
