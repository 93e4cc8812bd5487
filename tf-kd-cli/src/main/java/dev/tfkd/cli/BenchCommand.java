package dev.tfkd.cli;

import dev.tfkd.bench.MatmulCeiling;
import dev.tfkd.bench.Protocol;
import dev.tfkd.bench.RandomData;
import dev.tfkd.bench.Rss;
import dev.tfkd.bench.StepTimer;
import dev.tfkd.data.Dataset;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.losses.Kl;
import dev.tfkd.models.Mlp;
import dev.tfkd.models.Models;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.FrozenTeacher;
import dev.tfkd.training.Objective;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.SessionSettings;
import dev.tfkd.training.TeacherLogitCache;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
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
      "Measure training throughput of the reference configurations (random-normal inputs, random labels,",
      "Adam 1e-3, the timing protocol of shared/bench: 20 warm-up steps, median of 5 windows of 2 s), or,",
      "with --soak, resident memory over a long run.",
      "",
      "Configurations:",
      "  matmul          float32 n x n matrix multiply: the GFLOP/s ceiling",
      "  mlp             784-512-512-10 ReLU, batch 128, cross-entropy",
      "  cnn             28x28x1: conv3x3x32, conv3x3x64 ('same', ReLU), max-pool 2, dense 10; batch 64",
      "  teacher-fwd     forward pass only of the kd-mlp teacher 784-1200-1200-10, batch 128",
      "  kd-mlp-online   the mlp student on 0.1 CE + 0.9 T^2 KL (T = 4) from the frozen teacher, which runs",
      "                  inside the training graph on every batch",
      "  kd-mlp-cached   the same with the teacher's logits computed once for the data set and cached",
      "  resnet8x4       CIFAR ResNet-8x4 student alone (32x32x3, 100 classes, batch 64); needs the zoo",
      "  resnet32x4-fwd  forward pass only of the CIFAR ResNet-32x4 teacher, batch 64; needs the zoo",
      "  kd-resnet-online, kd-resnet-cached   ResNet-8x4 distilled from ResNet-32x4, teacher online or cached"
    },
    footer = {
      "",
      "Examples:",
      "  tfkd bench",
      "  tfkd bench --config mlp,kd-mlp-online --threads 2 --json",
      "  tfkd bench --soak --steps 10000"
    })
final class BenchCommand implements Callable<Integer> {
  /** Every configuration, in the order a full run measures them. */
  static final List<String> CONFIGS =
      List.of(
          "matmul", "mlp", "cnn", "teacher-fwd", "kd-mlp-online", "kd-mlp-cached", "resnet8x4", "resnet32x4-fwd",
          "kd-resnet-online", "kd-resnet-cached");

  private static final long[] MNIST = {784};
  private static final long[] CIFAR = {32, 32, 3};
  private static final int CIFAR_CLASSES = 100;

  @Spec CommandSpec spec;

  @Mixin SessionOptions sessionOptions;

  @Option(
      names = "--config",
      split = ",",
      paramLabel = "NAME",
      description = "Configurations to run, comma-separated (default: all; see above).")
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

  @Option(
      names = "--examples",
      description = "Random training examples per configuration (default: ${DEFAULT-VALUE}).",
      defaultValue = "4096")
  int examples;

  private SessionSettings settings;
  private ConfigProto sessionConfig;
  private Protocol protocol;

  @Override
  public Integer call() {
    settings = sessionOptions.settings();
    sessionConfig = settings.toConfigProto();
    protocol = new Protocol(warmupSteps, windowSeconds, windows);
    if (examples < 1) {
      throw new IllegalArgumentException("--examples must be >= 1, got " + examples);
    }
    List<String> chosen = configs == null || configs.isEmpty() ? (soak ? List.of("mlp") : CONFIGS) : configs;
    for (String c : chosen) {
      if (!CONFIGS.contains(c)) {
        throw new IllegalArgumentException("unknown configuration '" + c + "'; known: " + String.join(", ", CONFIGS));
      }
    }
    PrintWriter o = spec.commandLine().getOut();
    if (soak) {
      if (chosen.size() != 1 || chosen.get(0).equals("matmul") || chosen.get(0).endsWith("-fwd")) {
        throw new IllegalArgumentException("--soak runs one training configuration, e.g. --config mlp");
      }
      if (soakSteps < 10) {
        throw new IllegalArgumentException("--steps must be >= 10, got " + soakSteps);
      }
      return soak(chosen.get(0), o);
    }
    if (!json) {
      o.printf("# tfkd bench: %s; %d warm-up steps, median of %d windows of %.1f s; %d cores%n",
          settings, protocol.warmupSteps(), protocol.windows(), protocol.windowSeconds(),
          Runtime.getRuntime().availableProcessors());
      o.flush();
    }
    List<Map<String, Object>> results = new ArrayList<>();
    for (String c : chosen) {
      Map<String, Object> r = run(c);
      results.add(r);
      if (!json) {
        o.println(line(r));
        o.flush();
      }
    }
    List<Map<String, Object>> summary = summary(results);
    if (json) {
      List<Map<String, Object>> all = new ArrayList<>(results);
      all.addAll(summary);
      o.println(results.isEmpty() ? "[]" : all.stream().map(BenchCommand::json).collect(Collectors.joining(",\n ", "[", "]")));
    } else {
      summary.forEach(s -> o.println(line(s)));
    }
    return Errors.OK;
  }

  /** Runs one configuration and returns its figures as ordered key/value pairs. */
  private Map<String, Object> run(String config) {
    Rss.resetPeak();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("config", config);
    switch (config) {
      case "matmul" -> {
        r.put("n", matmulSize);
        MatmulCeiling.Rate rate = MatmulCeiling.measure(matmulSize, sessionConfig, protocol);
        r.put("gflops", rate.gflops());
        r.put("cpu_gflops", rate.cpuGflops());
      }
      case "mlp" -> train(r, mlp(), data(MNIST, 10), 128, new CrossEntropy(), null, null);
      case "cnn" -> train(r, cnn(), data(new long[] {28, 28, 1}, 10), 64, new CrossEntropy(), null, null);
      case "teacher-fwd" -> forward(r, FrozenTeacher.initial(mlpTeacher(), seed), 128);
      case "kd-mlp-online" -> train(r, mlp(), data(MNIST, 10), 128, hinton(), null, FrozenTeacher.initial(mlpTeacher(), seed));
      case "kd-mlp-cached" -> cached(r, mlp(), mlpTeacher(), data(MNIST, 10), 128);
      case "resnet8x4" -> {
        Architecture s = zoo("resnet8x4", r);
        if (s != null) {
          train(r, s, data(CIFAR, CIFAR_CLASSES), 64, new CrossEntropy(), null, null);
        }
      }
      case "resnet32x4-fwd" -> {
        Architecture t = zoo("resnet32x4", r);
        if (t != null) {
          forward(r, FrozenTeacher.initial(t, seed), 64);
        }
      }
      case "kd-resnet-online", "kd-resnet-cached" -> {
        Architecture s = zoo("resnet8x4", r);
        Architecture t = s == null ? null : zoo("resnet32x4", r);
        if (t != null) {
          if (config.equals("kd-resnet-online")) {
            train(r, s, data(CIFAR, CIFAR_CLASSES), 64, hinton(), null, FrozenTeacher.initial(t, seed));
          } else {
            cached(r, s, t, data(CIFAR, CIFAR_CLASSES), 64);
          }
        }
      }
      default -> throw new AssertionError(config);
    }
    return r;
  }

  private void train(
      Map<String, Object> r,
      Architecture arch,
      Dataset data,
      int batch,
      Objective objective,
      float[] teacherLogits,
      FrozenTeacher online) {
    StepTimer timer = new StepTimer(protocol);
    // Epochs far beyond the protocol: the timer ends the run once its windows are timed.
    TrainConfig cfg = new TrainConfig(1_000_000, batch, OptimizerConfig.adam(1e-3f), seed, settings.intraOpThreads());
    Trainer trainer = new Trainer(cfg, List.of(timer), sessionConfig);
    Path work = tempDir();
    try {
      if (online != null) {
        trainer.trainOnline(arch, data, objective, online, work);
      } else {
        trainer.train(arch, data, objective, teacherLogits, work);
      }
    } finally {
      deleteQuietly(work);
    }
    report(r, batch, timer);
  }

  private void cached(Map<String, Object> r, Architecture student, Architecture teacherArch, Dataset data, int batch) {
    FrozenTeacher teacher = FrozenTeacher.initial(teacherArch, seed);
    long t0 = System.nanoTime();
    float[] logits = TeacherLogitCache.inMemory().logits(teacher, data, 512, sessionConfig);
    double cacheSeconds = (System.nanoTime() - t0) / 1e9;
    train(r, student, data, batch, hinton(), logits, null);
    r.put("cache_s", cacheSeconds);
  }

  /** Times the teacher's forward pass alone on one fixed batch, fetching the logits as a separate session would. */
  private void forward(Map<String, Object> r, FrozenTeacher teacher, int batch) {
    Architecture a = teacher.architecture();
    Dataset d = RandomData.normal(batch, a.inputShape(), a.numClasses(), seed);
    StepTimer timer = new StepTimer(protocol);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(InferenceModel.batchShape(a.inputShape())));
      Operand<TFloat32> logits = teacher.logits(tf, x);
      try (Session s = new Session(g, sessionConfig);
          TFloat32 xt = dev.tfkd.graph.Tensors.floats(
              InferenceModel.batchShape(a.inputShape(), batch), d.features(), 0, d.features().length)) {
        while (!timer.done()) {
          try (Result out = s.runner().feed(x, xt).fetch(logits).run()) {
            timer.stepDone();
          }
        }
      }
    }
    r.put("batch", batch);
    r.put("steps_per_s", timer.medianRate());
    r.put("samples_per_s", timer.medianRate() * batch);
    r.put("cpu_ms_per_step", timer.medianCpuMsPerStep());
    putMemory(r, timer);
    r.put("windows", timer.windowRates());
  }

  private void report(Map<String, Object> r, int batch, StepTimer timer) {
    r.put("batch", batch);
    r.put("steps_per_s", timer.medianRate());
    r.put("samples_per_s", timer.medianRate() * batch);
    r.put("cpu_ms_per_step", timer.medianCpuMsPerStep());
    putMemory(r, timer);
    r.put("windows", timer.windowRates());
  }

  private static void putMemory(Map<String, Object> r, StepTimer timer) {
    Rss rss = Rss.read();
    r.put("rss_mb", rss.currentMb());
    r.put("peak_rss_mb", rss.peakMb());
    r.put("rss_warmup_mb", timer.rssAfterWarmupKb() / 1024.0);
  }

  /** The ratios the performance targets are stated in, from whichever configurations ran. */
  private static List<Map<String, Object>> summary(List<Map<String, Object>> results) {
    Map<String, Double> rate = new LinkedHashMap<>();
    Map<String, Double> cpuMs = new LinkedHashMap<>();
    double gflops = Double.NaN;
    double cpuGflops = Double.NaN;
    for (Map<String, Object> r : results) {
      if (r.get("steps_per_s") instanceof Double d) {
        rate.put((String) r.get("config"), d);
      }
      if (r.get("cpu_ms_per_step") instanceof Double c) {
        cpuMs.put((String) r.get("config"), c);
      }
      if (r.get("gflops") instanceof Double g) {
        gflops = g;
        cpuGflops = (Double) r.get("cpu_gflops");
      }
    }
    List<Map<String, Object>> out = new ArrayList<>();
    if (rate.containsKey("mlp") && !Double.isNaN(gflops)) {
      // 3 x the forward FLOPs: forward, and the two matrix products of the backward pass.
      double flops = 3.0 * 2 * 128 * (784.0 * 512 + 512.0 * 512 + 512.0 * 10);
      double achieved = rate.get("mlp") * flops / 1e9;
      // The same per CPU-second of this process: steadier when other work shares the cores.
      double cpuAchieved = flops / 1e6 / cpuMs.getOrDefault("mlp", Double.NaN);
      out.add(ordered("summary", "mlp-vs-ceiling", "mlp_gflops", achieved, "ceiling_gflops", gflops, "fraction",
          achieved / gflops, "cpu_fraction", cpuAchieved / cpuGflops));
    }
    if (rate.containsKey("mlp") && rate.containsKey("kd-mlp-cached")) {
      out.add(ordered("summary", "kd-mlp-cached-vs-mlp", "step_time_ratio", rate.get("mlp") / rate.get("kd-mlp-cached"),
          "cpu_time_ratio", ratio(cpuMs, "kd-mlp-cached", "mlp")));
    }
    if (rate.containsKey("mlp") && rate.containsKey("teacher-fwd") && rate.containsKey("kd-mlp-online")) {
      double separate = 1 / rate.get("mlp") + 1 / rate.get("teacher-fwd");
      double cpuSeparate = cpuMs.getOrDefault("mlp", Double.NaN) + cpuMs.getOrDefault("teacher-fwd", Double.NaN);
      out.add(ordered("summary", "kd-mlp-online-vs-separate", "step_time_ratio", (1 / rate.get("kd-mlp-online")) / separate,
          "cpu_time_ratio", cpuMs.getOrDefault("kd-mlp-online", Double.NaN) / cpuSeparate));
    }
    if (rate.containsKey("resnet8x4") && rate.containsKey("resnet32x4-fwd") && rate.containsKey("kd-resnet-online")) {
      double separate = 1 / rate.get("resnet8x4") + 1 / rate.get("resnet32x4-fwd");
      out.add(ordered("summary", "kd-resnet-online-vs-separate", "step_time_ratio", (1 / rate.get("kd-resnet-online")) / separate));
    }
    if (rate.containsKey("resnet8x4") && rate.containsKey("kd-resnet-cached")) {
      out.add(ordered("summary", "kd-resnet-cached-vs-resnet8x4", "step_time_ratio", rate.get("resnet8x4") / rate.get("kd-resnet-cached")));
    }
    return out;
  }

  private static double ratio(Map<String, Double> m, String a, String b) {
    return m.getOrDefault(a, Double.NaN) / m.getOrDefault(b, Double.NaN);
  }

  private static Map<String, Object> ordered(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private int soak(String config, PrintWriter o) {
    long interval = Math.max(1, soakSteps / 20);
    long warmupEnd = Math.max(interval, soakSteps / 10);
    List<long[]> samples = new ArrayList<>();
    TrainingListener soaker =
        new TrainingListener() {
          long steps;

          @Override
          public void onStep(StepMetrics step) {
            steps++;
            if (steps % interval == 0 || steps == soakSteps) {
              long kb = Rss.read().currentKb();
              samples.add(new long[] {steps, kb});
              if (!json) {
                // The Java heap's share of the resident memory, to tell heap sizing from native growth.
                Runtime rt = Runtime.getRuntime();
                o.printf(Locale.ROOT, "soak config=%s step=%d rss_mb=%.1f heap_committed_mb=%.1f heap_used_mb=%.1f%n",
                    config, steps, kb / 1024.0, rt.totalMemory() / 1048576.0, (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
                o.flush();
              }
            }
          }

          @Override
          public boolean stopRequested() {
            return steps >= soakSteps;
          }
        };
    Architecture arch;
    Dataset data;
    int batch;
    Objective objective = config.startsWith("kd-") ? hinton() : new CrossEntropy();
    FrozenTeacher teacher = null;
    Map<String, Object> skip = new LinkedHashMap<>();
    switch (config) {
      case "mlp", "kd-mlp-online", "kd-mlp-cached" -> {
        arch = mlp();
        data = data(MNIST, 10);
        batch = 128;
        teacher = config.equals("mlp") ? null : FrozenTeacher.initial(mlpTeacher(), seed);
      }
      case "cnn" -> {
        arch = cnn();
        data = data(new long[] {28, 28, 1}, 10);
        batch = 64;
      }
      default -> {
        arch = zoo("resnet8x4", skip);
        if (arch == null) {
          o.println(line(skip));
          return Errors.OK;
        }
        data = data(CIFAR, CIFAR_CLASSES);
        batch = 64;
        if (!config.equals("resnet8x4")) {
          Architecture t = zoo("resnet32x4", skip);
          if (t == null) {
            o.println(line(skip));
            return Errors.OK;
          }
          teacher = FrozenTeacher.initial(t, seed);
        }
      }
    }
    float[] logits =
        config.endsWith("-cached") ? TeacherLogitCache.inMemory().logits(teacher, data, 512, sessionConfig) : null;
    TrainConfig cfg =
        new TrainConfig(1_000_000, batch, OptimizerConfig.adam(1e-3f), seed, settings.intraOpThreads());
    Trainer trainer = new Trainer(cfg, List.of(soaker), sessionConfig);
    Path work = tempDir();
    long t0 = System.nanoTime();
    try {
      if (config.endsWith("-online")) {
        trainer.trainOnline(arch, data, objective, teacher, work);
      } else {
        trainer.train(arch, data, objective, logits, work);
      }
    } finally {
      deleteQuietly(work);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long atWarmup = 0;
    long max = 0;
    long end = samples.isEmpty() ? 0 : samples.get(samples.size() - 1)[1];
    for (long[] s : samples) {
      if (s[0] <= warmupEnd) {
        atWarmup = s[1];
      } else {
        max = Math.max(max, s[1]);
      }
    }
    double growth = atWarmup == 0 ? Double.NaN : 100.0 * (max - atWarmup) / atWarmup;
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("soak", config);
    r.put("steps", soakSteps);
    r.put("seconds", seconds);
    r.put("warmup_steps", warmupEnd);
    r.put("rss_warmup_mb", atWarmup / 1024.0);
    r.put("rss_max_after_warmup_mb", max / 1024.0);
    r.put("rss_end_mb", end / 1024.0);
    r.put("growth_pct", growth);
    r.put("within_5pct", growth < 5.0);
    if (json) {
      Map<String, Object> series = new LinkedHashMap<>(r);
      series.put("samples_mb", samples.stream().mapToDouble(s -> s[1] / 1024.0).toArray());
      o.println(json(series));
    } else {
      o.println(line(r));
    }
    return Errors.OK;
  }

  private Dataset data(long[] shape, int classes) {
    return RandomData.normal(examples, shape, classes, seed);
  }

  private static Mlp mlp() {
    return Mlp.of(784, 10, 512, 512);
  }

  private static Mlp mlpTeacher() {
    return Mlp.of(784, 10, 1200, 1200);
  }

  private static Objective hinton() {
    return new Distillation(0.1f, 0.9f, new Kl(4f));
  }

  private static Architecture cnn() {
    try {
      return Models.create("cnn", new long[] {28, 28, 1}, 10);
    } catch (IllegalArgumentException e) {
      return new BenchCnn(10);
    }
  }

  /** The zoo's model {@code name} for CIFAR-100 inputs, or null (and a reason in {@code r}) if the zoo lacks it. */
  private static Architecture zoo(String name, Map<String, Object> r) {
    try {
      return Models.create(name, CIFAR, CIFAR_CLASSES);
    } catch (IllegalArgumentException e) {
      r.put("skipped", "the model zoo has no " + name + " (" + e.getMessage() + ")");
      return null;
    }
  }

  static String line(Map<String, Object> r) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Object> e : r.entrySet()) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(e.getKey()).append('=').append(value(e.getValue(), false));
    }
    return b.toString();
  }

  static String json(Map<String, Object> r) {
    return r.entrySet().stream()
        .map(e -> "\"" + e.getKey() + "\": " + value(e.getValue(), true))
        .collect(Collectors.joining(", ", "{", "}"));
  }

  private static String value(Object v, boolean json) {
    if (v instanceof Double d) {
      return Double.isFinite(d) ? String.format(Locale.ROOT, d >= 100 ? "%.1f" : "%.3f", d) : (json ? "null" : "nan");
    }
    if (v instanceof double[] a) {
      String items = Arrays.stream(a).mapToObj(d -> String.format(Locale.ROOT, "%.1f", d)).collect(Collectors.joining(","));
      return json ? "[" + items + "]" : items;
    }
    if (v instanceof String s) {
      if (json) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
      }
      return s.contains(" ") ? "\"" + s + "\"" : s;
    }
    return String.valueOf(v);
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("tfkd-bench-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory: " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temporary directory we could not remove is not worth failing the benchmark for.
    }
  }
}
