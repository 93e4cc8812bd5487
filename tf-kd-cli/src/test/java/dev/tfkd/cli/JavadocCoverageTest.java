package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfkd.graph.Architecture;
import dev.tfkd.models.Models;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every public type, constructor, method and constant of the three modules' main code has a Javadoc comment:
 * {@code javadoc -Xdoclint:missing} over the module's sources reports no "no comment" warning. (Missing {@code
 * @param} and {@code @return} tags are not counted.)
 */
class JavadocCoverageTest {
  @ParameterizedTest
  @ValueSource(strings = {"core", "models", "cli"})
  void everyPublicElementHasAComment(String module, @TempDir Path out) throws Exception {
    Path sources = sources(module);
    assumeTrue(sources != null, "the sources of tf-kd-" + module + " are not beside its classes (built from a jar)");
    List<String> args = new ArrayList<>(List.of("-quiet", "-Xdoclint:missing", "-Xmaxwarns", "100000"));
    args.addAll(List.of("-d", out.toString(), "-classpath", System.getProperty("java.class.path")));
    // The sources are documented on the class path (module-info.java has its own comment, read by the compiler).
    try (Stream<Path> files = Files.walk(sources)) {
      files
          .filter(f -> f.toString().endsWith(".java") && !f.endsWith("module-info.java"))
          .forEach(f -> args.add(f.toString()));
    }
    StringWriter text = new StringWriter();
    int rc;
    try (PrintWriter w = new PrintWriter(text)) {
      rc = ToolProvider.findFirst("javadoc").orElseThrow().run(w, w, args.toArray(String[]::new));
    }
    List<String> missing =
        text.toString().lines().filter(l -> l.contains("warning: no comment")).collect(Collectors.toList());
    assertEquals(0, rc, "javadoc failed on tf-kd-" + module + ":\n" + text);
    assertEquals(List.of(), missing, "public elements of tf-kd-" + module + " without a Javadoc comment");
  }

  /**
   * {@code src/main/java} of a module whose classes this test runs from its {@code target/classes} folder or {@code
   * target/*.jar} (a reactor build); {@code null} for a jar from a repository.
   */
  private static Path sources(String module) throws Exception {
    Class<?> anchor =
        switch (module) {
          case "core" -> Architecture.class;
          case "models" -> Models.class;
          default -> Tfkd.class;
        };
    Path classes = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path src = classes.getParent().getParent().resolve("src" + File.separator + "main" + File.separator + "java");
    return Files.isDirectory(src) ? src : null;
  }
}
