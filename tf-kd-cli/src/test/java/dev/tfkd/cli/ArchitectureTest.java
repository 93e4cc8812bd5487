package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.graph.Architecture;
import dev.tfkd.models.Models;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The architecture as {@code jdeps} sees it in the compiled classes of the three modules: packages form a graph
 * without cycles, dependencies point from the command line to models to core, and the command line uses only what
 * core and models export to applications (so it holds no training or export logic of its own).
 */
class ArchitectureTest {
  /**
   * Classes of packages exported only to this project's modules ({@code exports ... to}) that the command line may
   * use: the one atomic file write and the one JSON writer, and the benchmark's protocol and runner.
   */
  private static final Set<String> CLI_SHARED_PLUMBING =
      Set.of(
          "dev.tfkd.io.AtomicFiles", "dev.tfkd.io.Json", "dev.tfkd.bench.Protocol", "dev.tfkd.bench.PredictorBench",
          "dev.tfkd.bench.Rss", "dev.tfkd.models.bench.Bench");

  /** Training-loop assembly and export internals: public because core's packages share them, not for commands. */
  private static final Set<String> CLI_FORBIDDEN =
      Set.of(
          "dev.tfkd.training.Trainer",
          "dev.tfkd.training.BatchFeeder",
          "dev.tfkd.training.TrainingContext",
          "dev.tfkd.training.TeacherLogitCache",
          "dev.tfkd.training.FrozenTeacher",
          "dev.tfkd.export.ScannedSavedModel",
          "dev.tfkd.export.WarmupRecords",
          "dev.tfkd.graph.TrainingVariables",
          "dev.tfkd.graph.Batches");

  private static final Pattern EDGE = Pattern.compile("^\\s+(\\S+)\\s+->\\s+(\\S+)\\s+\\S+.*$");

  private static Path core;
  private static Path models;
  private static Path cli;
  /** Class-level dependencies from dev.tfkd classes to dev.tfkd and org.tensorflow classes. */
  private static Map<String, Set<String>> classEdges;

  @BeforeAll
  static void runJdeps() throws Exception {
    core = location(Architecture.class);
    models = location(Models.class);
    cli = location(Tfkd.class);
    // jdeps resolves the three modules' requires, so the third-party jars of the test class path are its module path.
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String modulePath =
        Stream.of(classPath.split(File.pathSeparator))
            .filter(e -> e.endsWith(".jar") && !e.contains("tf-kd-"))
            .collect(Collectors.joining(File.pathSeparator));
    String out =
        tool(
            "jdeps",
            "--multi-release",
            "17",
            "--module-path",
            modulePath,
            "-verbose:class",
            "-e",
            "(dev\\.tfkd|org\\.tensorflow)\\..*",
            core.toString(),
            models.toString(),
            cli.toString());
    classEdges = new TreeMap<>();
    for (String line : out.split("\n")) {
      Matcher m = EDGE.matcher(line);
      if (m.matches() && m.group(1).startsWith("dev.tfkd.")) {
        classEdges.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
      }
    }
    assertTrue(
        classEdges.keySet().stream().anyMatch(c -> c.startsWith("dev.tfkd.cli.")),
        "jdeps found no dependency of the command line; its output was:\n" + out);
  }

  @Test
  void packagesFormNoCycle() {
    Map<String, Set<String>> graph = packageGraph();
    List<String> cycle = findCycle(graph);
    assertTrue(cycle.isEmpty(), "package cycle: " + String.join(" -> ", cycle));
  }

  @Test
  void dependenciesPointFromCliToModelsToCore() throws IOException {
    Set<String> corePackages = descriptor(core).packages();
    Set<String> cliPackages = descriptor(cli).packages();
    List<String> wrong = new ArrayList<>();
    packageGraph()
        .forEach(
            (from, tos) -> {
              for (String to : tos) {
                boolean coreReachesOut = corePackages.contains(from) && !corePackages.contains(to);
                boolean reachesCli = !cliPackages.contains(from) && cliPackages.contains(to);
                if (coreReachesOut || reachesCli) {
                  wrong.add(from + " -> " + to);
                }
              }
            });
    assertEquals(List.of(), wrong, "dependencies against the module order core <- models <- cli");
  }

  @Test
  void commandLineUsesOnlyTheExportedApi() throws IOException {
    Set<String> api = new TreeSet<>(unqualifiedExports(core));
    api.addAll(unqualifiedExports(models));
    List<String> wrong = new ArrayList<>();
    classEdges.forEach(
        (from, tos) -> {
          if (!from.startsWith("dev.tfkd.cli.")) {
            return;
          }
          for (String to : tos) {
            String pkg = packageOf(to);
            boolean projectClass = to.startsWith("dev.tfkd.") && !pkg.equals("dev.tfkd.cli");
            if (projectClass && !api.contains(pkg) && !CLI_SHARED_PLUMBING.contains(outer(to))
                || CLI_FORBIDDEN.contains(outer(to))
                // Building graphs is core's and models' job: the command line adds no op to a graph.
                || pkg.startsWith("org.tensorflow.op")) {
              wrong.add(from + " -> " + to);
            }
          }
        });
    assertEquals(List.of(), wrong, "the command line reaches past the API (exported packages: " + api + ")");
  }

  @Test
  void theRulesCanFail() {
    // The cycle search finds a cycle when there is one, so packagesFormNoCycle is not true by construction.
    Map<String, Set<String>> withCycle = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"));
    assertEquals(List.of("a", "b", "c", "a"), findCycle(withCycle));
    assertTrue(findCycle(Map.of("a", Set.of("b"), "b", Set.of())).isEmpty());
  }

  private static Map<String, Set<String>> packageGraph() {
    Map<String, Set<String>> graph = new TreeMap<>();
    classEdges.forEach(
        (from, tos) -> {
          for (String to : tos) {
            String a = packageOf(from);
            String b = packageOf(to);
            if (b.startsWith("dev.tfkd.") && !a.equals(b)) {
              graph.computeIfAbsent(a, k -> new TreeSet<>()).add(b);
            }
          }
        });
    return graph;
  }

  /** A cycle as a path that starts and ends at the same package, or empty when the graph has none. */
  static List<String> findCycle(Map<String, Set<String>> graph) {
    Map<String, Integer> state = new TreeMap<>(); // absent: unvisited, 1: on the current path, 2: done
    for (String start : new TreeSet<>(graph.keySet())) {
      List<String> path = new ArrayList<>();
      if (!state.containsKey(start) && visit(start, graph, state, path)) {
        String last = path.get(path.size() - 1);
        return path.subList(path.indexOf(last), path.size());
      }
    }
    return List.of();
  }

  private static boolean visit(
      String node, Map<String, Set<String>> graph, Map<String, Integer> state, List<String> path) {
    state.put(node, 1);
    path.add(node);
    for (String next : new TreeSet<>(graph.getOrDefault(node, Set.of()))) {
      if (Integer.valueOf(1).equals(state.get(next))) {
        path.add(next);
        return true;
      }
      if (!state.containsKey(next) && visit(next, graph, state, path)) {
        return true;
      }
    }
    state.put(node, 2);
    path.remove(path.size() - 1);
    return false;
  }

  private static Set<String> unqualifiedExports(Path module) throws IOException {
    return descriptor(module).exports().stream()
        .filter(e -> !e.isQualified())
        .map(ModuleDescriptor.Exports::source)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** The module descriptor of a classes folder or a jar. */
  private static ModuleDescriptor descriptor(Path location) throws IOException {
    if (Files.isDirectory(location)) {
      try (InputStream in = Files.newInputStream(location.resolve("module-info.class"))) {
        return ModuleDescriptor.read(in);
      }
    }
    try (JarFile jar = new JarFile(location.toFile());
        InputStream in = jar.getInputStream(jar.getEntry("module-info.class"))) {
      return ModuleDescriptor.read(in);
    }
  }

  private static Path location(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  private static String packageOf(String className) {
    return className.substring(0, className.lastIndexOf('.'));
  }

  /** The top-level class of a nested class name ({@code a.B$C} -> {@code a.B}). */
  private static String outer(String className) {
    int dollar = className.indexOf('$');
    return dollar < 0 ? className : className.substring(0, dollar);
  }

  private static String tool(String name, String... args) {
    ToolProvider tool =
        ToolProvider.findFirst(name).orElseThrow(() -> new AssertionError(name + " is not in this JDK"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc;
    try (PrintWriter o = new PrintWriter(out);
        PrintWriter e = new PrintWriter(err)) {
      rc = tool.run(o, e, args);
    }
    assertEquals(0, rc, name + " failed: " + err + out);
    return out.toString();
  }
}
