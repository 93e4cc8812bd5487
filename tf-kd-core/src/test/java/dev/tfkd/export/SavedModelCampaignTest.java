package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.data.GaussianMixture;
import dev.tfkd.export.HostileSavedModels.Injected;
import dev.tfkd.export.HostileSavedModels.Io;
import dev.tfkd.export.HostileSavedModels.Placement;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.testing.SharedData;
import dev.tfkd.testing.TinyMlp;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * Hostile SavedModels: a tf-kd export and the real SavedModels in {@code shared/savedmodels} (when present) get an
 * I/O op (WriteFile, SaveV2, ReadFile on a canary path outside the model's directory) placed in the main graph or in
 * library functions reached in several ways, wired into a signature, the init op, the restore op, the save path, or
 * nothing; functions renamed, {@code saver_def} rewritten to name the I/O node, and other meta graphs added (the
 * mutated one under {@code {serve, gpu}} beside the clean {@code {serve}}, or swapped). Required: a mutation whose I/O
 * can run at load or call is refused with a finding naming op, node and function; every mutation the scan passes is
 * loaded and called through {@link Predictor}, and the canary is never created nor read.
 *
 * <p>Tries come from {@code jqwik.tries.default} (100 by default; the {@code fuzz} profile raises it).
 */
class SavedModelCampaignTest {
  /** How the I/O is wired. */
  enum Wiring {
    SIGNATURE, INIT, TABLE_INITIALIZER, RESTORE, HIJACK_SIGNATURE, RESTORE_PREFIX, SAVE_ONLY, NOTHING
  }

  /** Which meta graphs the file holds. */
  enum Tags {
    /** Only the mutated {serve}. */
    ALONE,
    /** The clean {serve} first, the mutated one as {serve, gpu}: the loader takes the clean one. */
    MUTANT_AS_GPU,
    /** A clean {serve, gpu} first, the mutated one as {serve}: the one the loader takes. */
    CLEAN_GPU_FIRST
  }

  record Mutation(int base, Io io, Placement placement, Wiring wiring, Tags tags, boolean rename, boolean saverNamesIt) {}

  private static Path work;
  private static final List<Path> bases = new ArrayList<>();

  @BeforeContainer
  static void exportBases() throws Exception {
    work = Files.createTempDirectory("tfkd-campaign-");
    GaussianMixture g = new GaussianMixture(3, 5, 1.5, 7);
    TrainedModel model =
        new Trainer(new TrainConfig(1, 32, OptimizerConfig.adam(1e-2f), 1, 1), List.of())
            .train(new TinyMlp(5, 4, 3), g.sample(64, 1, "train"), new CrossEntropy(), null, work.resolve("train"));
    try (InferenceModel m = model.load(Trainer.sessionConfig(1))) {
      bases.add(ServingExporter.export(m, work.resolve("tfkd/1")));
    }
    bases.addAll(SharedData.savedModels());
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    try (Stream<Path> all = Files.walk(work)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Provide
  Arbitrary<Mutation> mutations() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 3),
            Arbitraries.of(Io.class),
            Arbitraries.of(Placement.class),
            Arbitraries.of(Wiring.class),
            Arbitraries.of(Tags.class),
            Arbitraries.of(true, false),
            Arbitraries.of(true, false))
        .as(Mutation::new);
  }

  @Property
  void noMutationThatPassesTheScanTouchesTheCanary(@ForAll("mutations") Mutation m) throws Exception {
    Path base = bases.get(m.base() % bases.size());
    Path dir = Files.createTempDirectory(work, "try-");
    Path canary = dir.resolve("canary/victim");
    Files.createDirectories(canary.getParent());
    SavedModel original = HostileSavedModels.read(base);
    MetaGraphDef clean = ScannedSavedModel.select(original, java.util.Set.of("serve")).orElseThrow();
    MetaGraphDef.Builder meta = clean.toBuilder();
    var graph = meta.getGraphDefBuilder();
    Injected inj = HostileSavedModels.inject(graph, m.io(), m.placement(), canary);
    String function = inj.function();
    boolean runs = true;
    switch (m.wiring()) {
      case SIGNATURE -> HostileSavedModels.addControl(graph, HostileSavedModels.outputNode(meta, "serving_default"), inj.entryNode());
      case INIT -> HostileSavedModels.wireIntoInit(meta, inj.entryNode());
      case TABLE_INITIALIZER -> meta.putCollectionDef("table_initializer", HostileSavedModels.nodeList(inj.entryNode()));
      case RESTORE -> HostileSavedModels.addControl(graph, meta.getSaverDef().getRestoreOpName(), inj.entryNode());
      case HIJACK_SIGNATURE -> meta.putSignatureDef("hijack", meta.getSignatureDefOrThrow("serving_default").toBuilder()
          .clearOutputs().putOutputs("out", HostileSavedModels.tensor(inj.entryNode() + ":0")).build());
      case RESTORE_PREFIX -> {
        // Every checkpoint read gets a constant file name outside the model: the canary.
        graph.addNode(HostileSavedModels.constant("evil_prefix", HostileSavedModels.strings(canary.toString())));
        boolean done = false;
        function = null;
        for (NodeDef.Builder n : graph.getNodeBuilderList()) {
          if (n.getOp().equals("RestoreV2")) {
            n.setInput(0, "evil_prefix");
            function = "";
            done = true;
          }
        }
        for (var f : graph.getLibraryBuilder().getFunctionBuilderList()) {
          List<NodeDef> body = new ArrayList<>(f.getNodeDefList());
          if (body.stream().anyMatch(n -> n.getOp().equals("RestoreV2"))) {
            body.add(HostileSavedModels.constant("evil_prefix", HostileSavedModels.strings(canary.toString())));
            body.replaceAll(n -> n.getOp().equals("RestoreV2") ? n.toBuilder().setInput(0, "evil_prefix:output:0").build() : n);
            f.clearNodeDef().addAllNodeDef(body);
            function = function == null ? f.getSignature().getName() : function;
            done = true;
          }
        }
        runs = done;
      }
      case SAVE_ONLY -> {
        HostileSavedModels.addControl(graph, meta.getSaverDef().getSaveTensorName(), inj.entryNode());
        runs = false;
      }
      case NOTHING -> runs = false;
    }
    boolean onSavePath = m.wiring() == Wiring.SAVE_ONLY;
    if (m.saverNamesIt()) {
      // The author's saver_def claims the I/O as its save op: that exempts nothing on another path.
      meta.getSaverDefBuilder().setSaveTensorName(inj.entryNode() + ":0");
      onSavePath = true;
    }
    String suffix = "";
    if (m.rename()) {
      suffix = "_r" + (m.hashCode() & 0xfff);
      HostileSavedModels.renameFunctions(graph, suffix);
    }
    if (function != null && !function.isEmpty()) {
      function += suffix;
    }
    // Checkpoint writes on the save path are allowed (nothing runs it); unsafe ops on any path are refused.
    boolean expectRefused =
        runs || onSavePath && m.io() != Io.SAVE_V2 && m.wiring() != Wiring.RESTORE_PREFIX;
    SavedModel.Builder saved = SavedModel.newBuilder().setSavedModelSchemaVersion(1);
    switch (m.tags()) {
      case ALONE -> saved.addMetaGraphs(meta);
      case MUTANT_AS_GPU -> {
        saved.addMetaGraphs(clean);
        meta.getMetaInfoDefBuilder().clearTags().addTags("serve").addTags("gpu");
        saved.addMetaGraphs(meta);
        expectRefused = false;
      }
      case CLEAN_GPU_FIRST -> {
        MetaGraphDef.Builder gpu = clean.toBuilder();
        gpu.getMetaInfoDefBuilder().clearTags().addTags("gpu").addTags("serve");
        saved.addMetaGraphs(gpu).addMetaGraphs(meta);
      }
    }
    Path model = HostileSavedModels.write(saved.build(), base, dir.resolve("model"));
    Statistics.label("outcome").collect(expectRefused ? "refused" : "passes");

    List<GraphSafety.Finding> findings = ScannedSavedModel.read(model, java.util.Set.of("serve")).scan();
    if (expectRefused) {
      String op = m.wiring() == Wiring.RESTORE_PREFIX ? "RestoreV2" : m.io().op;
      String node = m.wiring() == Wiring.RESTORE_PREFIX ? null : inj.ioNode();
      String fn = function;
      assertTrue(
          findings.stream().anyMatch(f -> f.op().equals(op) && (node == null || f.node().equals(node)) && f.function().equals(fn)),
          m + ": expected a finding for " + op + " at " + node + " in '" + fn + "', got " + findings);
      Throwable refusal = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Predictor.load(model));
      assertTrue(refusal.getMessage().contains("--allow-unsafe-ops"), refusal.getMessage());
    } else {
      assertEquals(List.of(), findings, m.toString());
      try (Predictor p = Predictor.load(model)) {
        p.logits(new float[p.exampleSize() * 2], 2);
      } catch (RuntimeException e) {
        // A mutation may break the model (a bad graph, an input TensorFlow Java refuses); it must not touch the canary.
        assertFalse(String.valueOf(e.getMessage()).contains(canary.toString()), m + ": " + e.getMessage());
        Statistics.label("loaded").collect("failed to load or run");
      }
    }
    try (Stream<Path> left = Files.list(canary.getParent())) {
      assertEquals(List.of(), left.toList(), m + " created files next to the canary");
    }
  }
}
