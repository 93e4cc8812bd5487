package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.GaussianMixture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Version numbers under concurrency, files published with the version, and the signature rule between versions. */
class ExportVersionsTest {
  @TempDir static Path work;
  static TrainedModel model;
  static TrainedModel wider;

  @BeforeAll
  static void train() {
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    Trainer t = new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of());
    model = t.train(new TinyMlp(5, 8, 3), g.sample(64, 1, "train"), new CrossEntropy(), null, work.resolve("a"));
    GaussianMixture g7 = new GaussianMixture(3, 7, 1.5, 7);
    wider = t.train(new TinyMlp(7, 8, 3), g7.sample(64, 1, "train"), new CrossEntropy(), null, work.resolve("b"));
  }

  @AfterEach
  void resetHook() {
    ServingExporter.beforePublish = tmp -> {};
  }

  /** Every integer version directory under {@code base}, each checked complete. */
  private static Set<String> completeVersions(Path base) throws Exception {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> s = Files.list(base)) {
      for (Path d : s.toList()) {
        String n = d.getFileName().toString();
        if (n.matches("[0-9]+")) {
          assertTrue(Files.isRegularFile(d.resolve("saved_model.pb")), d + " lacks saved_model.pb");
          assertTrue(Files.isRegularFile(d.resolve("variables/variables.index")), d + " lacks its variables");
          assertTrue(Files.isRegularFile(d.resolve("evaluation.json")), d + " lacks evaluation.json");
          out.add(n);
        } else {
          // No claim or temporary directory is left behind.
          assertFalse(n.startsWith(".claim-") || n.startsWith(".tmp-"), "left behind: " + n);
        }
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void concurrentThreadsEachPublishTheirOwnVersion(int exporters, @TempDir Path root) throws Exception {
    CyclicBarrier atRename = new CyclicBarrier(exporters);
    // Every exporter holds its finished export until all have one: they all chose a number before any published.
    ServingExporter.beforePublish =
        tmp -> {
          try {
            atRename.await(60, TimeUnit.SECONDS);
          } catch (Exception e) {
            throw new java.io.IOException(e);
          }
        };
    ExecutorService pool = Executors.newFixedThreadPool(exporters);
    List<Path> published = new ArrayList<>();
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      List<Future<Path>> futures = new ArrayList<>();
      for (int i = 0; i < exporters; i++) {
        Callable<Path> export =
            () -> ServingExporter.exportNextVersion(m, root, "m", ExportOptions.NONE.withFile("evaluation.json", "{}".getBytes()));
        futures.add(pool.submit(export));
      }
      for (Future<Path> f : futures) {
        published.add(f.get(120, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    Set<String> expected = new TreeSet<>();
    for (int v = 1; v <= exporters; v++) {
      expected.add(Integer.toString(v));
    }
    assertEquals(expected, completeVersions(root.resolve("m")));
    assertEquals(exporters, new TreeSet<>(published).size(), "distinct versions: " + published);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void concurrentProcessesEachPublishTheirOwnVersion(int exporters, @TempDir Path root) throws Exception {
    Path start = root.resolve("start");
    List<Process> children = new ArrayList<>();
    try {
      for (int i = 0; i < exporters; i++) {
        children.add(
            new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"),
                    ConcurrentExportMain.class.getName(), root.toString(), start.toString())
                .redirectErrorStream(true)
                .redirectOutput(root.resolve("child-" + i + ".log").toFile())
                .start());
      }
      // All children start exporting at once, once each has trained.
      Thread.sleep(500);
      Files.writeString(start, "go");
      for (int i = 0; i < exporters; i++) {
        Process p = children.get(i);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "child " + i + " did not finish");
        assertEquals(0, p.exitValue(), Files.readString(root.resolve("child-" + i + ".log")));
      }
    } finally {
      children.forEach(Process::destroyForcibly);
    }
    Set<String> expected = new TreeSet<>();
    for (int v = 1; v <= exporters; v++) {
      expected.add(Integer.toString(v));
    }
    assertEquals(expected, completeVersions(root.resolve("m")));
  }

  @Test
  void extraFilesAreInsideTheVersionBeforeItIsPublished(@TempDir Path root) throws Exception {
    List<Boolean> seen = new ArrayList<>();
    ServingExporter.beforePublish = tmp -> seen.add(Files.isRegularFile(tmp.resolve("evaluation.json")));
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      Path v = ServingExporter.exportNextVersion(m, root, "m", ExportOptions.NONE.withFile("evaluation.json", "{\"a\":1}".getBytes()));
      assertEquals("{\"a\":1}", Files.readString(v.resolve("evaluation.json")));
    }
    assertEquals(List.of(true), seen);
    assertThrows(
        IllegalArgumentException.class,
        () -> {
          try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
            ServingExporter.exportNextVersion(m, root, "m", ExportOptions.NONE.withFile("../escape", new byte[0]));
          }
        });
  }

  @Test
  void aVersionWithOtherSignaturesIsRefusedUnlessAllowed(@TempDir Path root) throws Exception {
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      ServingExporter.exportNextVersion(m, root, "m");
      // The same interface: published.
      assertEquals("2", ServingExporter.exportNextVersion(m, root, "m").getFileName().toString());
    }
    try (InferenceModel w = wider.load(Trainer.sessionConfig(1))) {
      var e =
          assertThrows(
              ServingExporter.SignatureChangeException.class,
              () -> ServingExporter.exportNextVersion(w, root, "m", ExportOptions.NONE));
      assertTrue(e.getMessage().contains("input 'inputs' shape [-1, 5] -> [-1, 7]"), e.getMessage());
      assertTrue(e.getMessage().contains("version 2"), e.getMessage());
      assertEquals(Set.of("1", "2"), completeVersionsNoEval(root.resolve("m")));
      Path v3 = ServingExporter.exportNextVersion(w, root, "m", ExportOptions.NONE.withSignatureChange(true));
      assertEquals("3", v3.getFileName().toString());
    }
  }

  private static Set<String> completeVersionsNoEval(Path base) throws Exception {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> s = Files.list(base)) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9]+")).forEach(out::add);
    }
    return out;
  }

  @Test
  void signaturesKnownBeforeTrainingEqualTheExportedOnes(@TempDir Path root) throws Exception {
    var options = new InferenceModel.Options(null, List.of("a", "b", "c"));
    Path v;
    try (InferenceModel m = model.load(Trainer.sessionConfig(1), options)) {
      v = ServingExporter.exportNextVersion(m, root, "m");
    }
    try (InferenceModel u = InferenceModel.unrestored(new TinyMlp(5, 8, 3), options)) {
      assertNull(Signatures.difference(ServingExporter.servingSignatures(v), Signatures.defs(u)));
    }
    try (InferenceModel u = InferenceModel.unrestored(new TinyMlp(5, 8, 4), options.classLabels() == null ? options : InferenceModel.Options.DEFAULT)) {
      assertEquals(
          "classify output 'classes' shape [-1, 3] -> [-1, 4]",
          Signatures.difference(ServingExporter.servingSignatures(v), Signatures.defs(u)));
    }
  }
}
