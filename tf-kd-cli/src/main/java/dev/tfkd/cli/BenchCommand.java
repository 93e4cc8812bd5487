package dev.tfkd.cli;

import dev.tfkd.bench.Protocol;
import dev.tfkd.models.bench.Bench;
import dev.tfkd.training.SessionSettings;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tfkd bench}: trains the reference configurations through the real training loop for a fixed time and
 * prints steps per second (median of timed windows after warm-up), samples per second and resident memory, one
 * line per configuration, plus the matrix-multiply ceiling. {@code --soak} instead trains one configuration for a
 * fixed number of steps and reports resident memory at intervals.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure training throughput of the reference configurations (random-normal inputs, random labels, Adam 1e-3, the timing protocol of shared/bench: 20 warm-up steps, median of 5 windows of 2 s), or, with --soak, resident memory over a long run.",
      "",
      "Configurations:",
      "  matmul          float32 n x n matrix multiply: the GFLOP/s ceiling",
      "  mlp             784-512-512-10 ReLU, batch 128, cross-entropy",
      "  mlp-stream      mlp on the same data written as 4 TFRecord shards and",
      "                  streamed (shuffle buffer 8192, 2 parser threads, prefetch 2)",
      "  cnn             28x28x1: conv3x3x32, conv3x3x64 ('same', ReLU), max-pool 2,",
      "                  dense 10; batch 64",
      "  cnn-stream      cnn on the same data streamed from TFRecord shards",
      "  teacher-fwd     forward pass only of the kd-mlp teacher 784-1200-1200-10,",
      "                  batch 128",
      "  kd-mlp-online   the mlp student on 0.1 CE + 0.9 T^2 KL (T = 4) from the",
      "                  frozen teacher, which runs inside the training graph on",
      "                  every batch",
      "  kd-mlp-cached   the same with the teacher's logits computed once for the",
      "                  data set and cached",
      "  resnet8x4       CIFAR ResNet-8x4 student alone (32x32x3, 100 classes,",
      "                  batch 64); needs the zoo",
      "  resnet32x4-fwd  forward pass only of the CIFAR ResNet-32x4 teacher, batch 64;",
      "                  needs the zoo",
      "  kd-resnet-online, kd-resnet-cached",
      "                  ResNet-8x4 distilled from ResNet-32x4, teacher online or",
      "                  cached"
    },
    footer = {
      "",
      "Examples:",
      "  tfkd bench",
      "  tfkd bench --config mlp,kd-mlp-online --threads 2 --json",
      "  tfkd bench --soak --steps 10000"
    })
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin SessionOptions sessionOptions;

  @Option(names = "--config", split = ",", paramLabel = "NAME", description = "Configurations to run, comma-separated (default: all; see above).")
  List<String> configs;

  @Option(names = "--json", description = "Print a JSON array instead of key=value lines.")
  boolean json;

  @Option(names = "--soak", description = "Memory soak: train one configuration (default mlp) for --steps steps.")
  boolean soak;

  @Option(names = "--steps", description = "Steps of the soak run (default: ${DEFAULT-VALUE}).", defaultValue = "10000")
  long soakSteps;

  @Option(names = "--seed", description = "Seed for data and weights (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  long seed;

  @Option(names = "--warmup-steps", description = "Untimed steps first (default: ${DEFAULT-VALUE}).", defaultValue = "20")
  int warmupSteps;

  @Option(names = "--window-seconds", description = "Length of a timed window (default: ${DEFAULT-VALUE}).", defaultValue = "2")
  double windowSeconds;

  @Option(names = "--windows", description = "Timed windows; the median counts (default: ${DEFAULT-VALUE}).", defaultValue = "5")
  int windows;

  @Option(names = "--matmul-size", description = "n of the n x n ceiling multiply (default: ${DEFAULT-VALUE}).", defaultValue = "1024")
  int matmulSize;

  @Option(names = "--examples", description = "Random training examples per configuration (default: ${DEFAULT-VALUE}).", defaultValue = "4096")
  int examples;

  @Option(names = "--predictor", paramLabel = "DIR", description = "Instead of training: measure a Predictor on the SavedModel in DIR as a long-running application uses it: --clients threads calling it with each of --batch-sizes until --predictions examples, then predictions per second, p50/p99 latency per call and resident memory (native included) after warm-up and at the end.")
  java.nio.file.Path predictor;

  @Option(names = "--predictions", description = "Predictor benchmark: examples predicted per batch size (default: ${DEFAULT-VALUE}).", defaultValue = "1000000")
  long predictions;

  @Option(names = "--clients", description = "Predictor benchmark: threads sharing the predictor (default: ${DEFAULT-VALUE}).", defaultValue = "8")
  int clients;

  @Option(names = "--batch-sizes", split = ",", paramLabel = "N", description = "Predictor benchmark: batch sizes (default: 1,8,64).")
  List<Integer> batchSizes;

  @Override
  public Integer call() throws Exception {
    if (predictor != null) {
      return predictorBench();
    }
    SessionSettings settings = sessionOptions.settings();
    Protocol protocol = new Protocol(warmupSteps, windowSeconds, windows);
    Bench bench = new Bench(new Bench.Options(settings, protocol, seed, examples, matmulSize));
    List<String> chosen = configs == null || configs.isEmpty() ? (soak ? List.of("mlp") : Bench.CONFIGS) : configs;
    for (String c : chosen) {
      if (!Bench.CONFIGS.contains(c)) {
        throw new IllegalArgumentException("unknown configuration '" + c + "'; known: " + String.join(", ", Bench.CONFIGS));
      }
    }
    PrintWriter o = spec.commandLine().getOut();
    if (soak) {
      if (chosen.size() != 1) {
        throw new IllegalArgumentException("--soak runs one training configuration, e.g. --config mlp");
      }
      Map<String, Object> r = bench.soak(chosen.get(0), soakSteps, s -> sample(o, s));
      if (!json) {
        r.remove("samples_mb");
      }
      o.println(json ? Bench.json(r) : Bench.line(r));
      return Errors.OK;
    }
    if (!json) {
      o.printf("# tfkd bench: %s; %d warm-up steps, median of %d windows of %.1f s; %d cores%n",
          settings, protocol.warmupSteps(), protocol.windows(), protocol.windowSeconds(),
          Runtime.getRuntime().availableProcessors());
      o.flush();
    }
    List<Map<String, Object>> results = new ArrayList<>();
    for (String c : chosen) {
      Map<String, Object> r = bench.run(c);
      results.add(r);
      if (!json) {
        o.println(Bench.line(r));
        o.flush();
      }
    }
    List<Map<String, Object>> summary = Bench.summary(results);
    if (json) {
      List<Map<String, Object>> all = new ArrayList<>(results);
      all.addAll(summary);
      o.println(results.isEmpty() ? "[]" : all.stream().map(Bench::json).collect(Collectors.joining(",\n ", "[", "]")));
    } else {
      summary.forEach(s -> o.println(Bench.line(s)));
    }
    return Errors.OK;
  }

  private int predictorBench() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    var options =
        new dev.tfkd.bench.PredictorBench.Options(
            // A tenth of the run untimed first, at least 20,000: the JIT and the Java heap's size settle in it.
            clients, predictions, batchSizes == null ? List.of(1, 8, 64) : batchSizes,
            Math.max(20_000, predictions / 10), seed);
    try (dev.tfkd.export.Predictor p = dev.tfkd.export.Predictor.load(predictor)) {
      o.printf(Locale.ROOT, "# tfkd bench --predictor %s: %d clients, %d predictions per batch size; %d cores%n",
          p.directory(), clients, predictions, Runtime.getRuntime().availableProcessors());
      o.flush();
      var report =
          dev.tfkd.bench.PredictorBench.run(
              p, options,
              r -> {
                // Resident memory after each batch size, with the Java heap's share, to tell heap sizing from native
                // growth.
                Runtime rt = Runtime.getRuntime();
                o.printf(Locale.ROOT,
                    "predictor batch=%d predictions=%d seconds=%.1f per_second=%.0f p50_ms=%.3f p99_ms=%.3f rss_mb=%.1f"
                        + " heap_committed_mb=%.1f%n",
                    r.batch(), r.predictions(), r.seconds(), r.perSecond(), r.p50Ms(), r.p99Ms(),
                    dev.tfkd.bench.Rss.read().currentMb(), rt.totalMemory() / 1048576.0);
                o.flush();
              });
      o.printf(Locale.ROOT, "predictor rss_after_warmup_mb=%.1f rss_end_mb=%.1f heap_max_mb=%.1f%n",
          report.afterWarmup().currentMb(), report.atEnd().currentMb(), Runtime.getRuntime().maxMemory() / 1048576.0);
    }
    return Errors.OK;
  }

  private void sample(PrintWriter o, Bench.SoakSample s) {
    if (!json) {
      // The Java heap's share of the resident memory, to tell heap sizing from native growth.
      Runtime rt = Runtime.getRuntime();
      o.printf(Locale.ROOT, "soak config=%s step=%d rss_mb=%.1f heap_committed_mb=%.1f heap_used_mb=%.1f%n", s.config(),
          s.step(), s.rssKb() / 1024.0, rt.totalMemory() / 1048576.0, (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
      o.flush();
    }
  }
}
