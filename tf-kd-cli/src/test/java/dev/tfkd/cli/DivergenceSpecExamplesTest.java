package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tfkd.losses.Divergences;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every divergence spec that the README, docs/, the run configuration's proto comments and the commands' --help
 * texts give as an example parses, so the documentation cannot drift from the parser (as {@code "kl:t=4"} once did).
 * Examples are found where a spec is expected: after {@code --divergence}, in {@code divergence: "..."} of a
 * configuration, after {@code tfkd divergences}, in the {@code e.g.} lists of a divergence's help, and as defaults.
 */
class DivergenceSpecExamplesTest {
  private static final String TOKEN = "('[^']*'|\"[^\"]*\"|[^\\s'\"`|\\\\]+)";
  private static final List<Pattern> WHERE_A_SPEC_GOES =
      List.of(
          Pattern.compile("--divergence[ =]" + TOKEN),
          Pattern.compile("divergence:\\s*\\\\?\"([^\"\\\\]*)\\\\?\""),
          Pattern.compile("tfkd divergences " + TOKEN),
          Pattern.compile("divergence spec[^\\n]*?e\\.g\\. " + TOKEN));

  @Test
  void everyDocumentedSpecParses() throws IOException {
    Map<String, String> examples = new LinkedHashMap<>();
    Path root = repositoryRoot();
    List<Path> docs = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("tf-kd-core/src/main/proto/tfkd/run_config.proto")));
    try (Stream<Path> s = Files.walk(root.resolve("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).forEach(docs::add);
    }
    for (Path p : docs) {
      collect(Files.readString(p), root.relativize(p).toString(), examples);
    }
    CommandLine tfkd = new CommandLine(new Tfkd());
    helpTexts(tfkd, examples);

    List<String> bad = new ArrayList<>();
    examples.forEach(
        (spec, where) -> {
          try {
            Divergences.parse(spec);
          } catch (IllegalArgumentException e) {
            bad.add(where + ": '" + spec + "': " + e.getMessage());
          }
        });
    if (!bad.isEmpty()) {
      fail("documented divergence specs the parser rejects:\n" + String.join("\n", bad));
    }
    // The search itself must work: these appear in README, proto and --help today.
    for (String known : List.of("kl(T=4)", "kl(T=2)", "cswt:dkd(beta=4)", "dkd(beta=4, warmup=0)", "cswt:kl")) {
      assertTrue(examples.containsKey(known), known + " not found among " + examples.keySet());
    }
  }

  @Test
  void theSearchFindsASpecInEachPlaceItLooks() {
    Map<String, String> found = new LinkedHashMap<>();
    collect(
        String.join(
            "\n",
            "./tfkd distill --divergence 'js(beta=0.3)' --run-dir x",
            "  --divergence=nkd(gamma=2)",
            "distillation { divergence: \"kl:t=4\" }",
            "`tfkd divergences cswt:tvd`",
            "  // A divergence spec from `tfkd divergences`, e.g. \"bdkd(w=2)\".",
            "--divergence SPEC  tfkd divergences [SPEC]"),
        "sample",
        found);
    assertEquals(List.of("js(beta=0.3)", "nkd(gamma=2)", "kl:t=4", "cswt:tvd", "bdkd(w=2)"), List.copyOf(found.keySet()));
    // The old proto example is one the parser rejects, so the documentation test would have caught it.
    assertThrows(IllegalArgumentException.class, () -> Divergences.parse("kl:t=4"));
  }

  /** Help of every command and subcommand, plus the default and e.g. list of every --divergence option. */
  private static void helpTexts(CommandLine cl, Map<String, String> examples) {
    String where = "tfkd " + cl.getCommandName() + " --help";
    collect(cl.getUsageMessage(CommandLine.Help.Ansi.OFF), where, examples);
    CommandLine.Model.OptionSpec option = cl.getCommandSpec().findOption("--divergence");
    if (option != null) {
      if (option.defaultValue() != null) {
        examples.putIfAbsent(option.defaultValue(), where + " (default)");
      }
      String description = String.join(" ", option.description());
      int eg = description.indexOf("e.g.");
      if (eg >= 0) {
        String list = description.substring(eg + 4).replaceAll("\\s*\\(default:.*$", "");
        for (String e : dev.tfkd.losses.DivergenceSpecTest.splitTopLevel(list)) {
          examples.putIfAbsent(unquote(e), where + " (e.g.)");
        }
      }
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      helpTexts(sub, examples);
    }
  }

  private static void collect(String text, String where, Map<String, String> examples) {
    for (Pattern p : WHERE_A_SPEC_GOES) {
      Matcher m = p.matcher(text);
      while (m.find()) {
        String spec = unquote(m.group(1));
        // Placeholders (SPEC, <divergence>) and usage synopses ([-hV]) are syntax, not examples.
        if (!spec.isEmpty() && !spec.matches(".*[A-Z]{4,}.*") && !spec.matches("[\\[<-].*")) {
          examples.putIfAbsent(spec, where);
        }
      }
    }
  }

  private static String unquote(String s) {
    String t = s.strip();
    if (t.endsWith(".") && !t.endsWith(")")) {
      t = t.substring(0, t.length() - 1);
    }
    if (t.length() >= 2 && (t.startsWith("'") && t.endsWith("'") || t.startsWith("\"") && t.endsWith("\""))) {
      t = t.substring(1, t.length() - 1);
    }
    return t.strip();
  }

  private static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("tf-kd-core"))) {
        return p;
      }
    }
    throw new IllegalStateException("no repository root above " + Path.of("").toAbsolutePath());
  }
}
