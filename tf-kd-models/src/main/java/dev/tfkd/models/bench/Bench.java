package dev.tfkd.models.bench;

import dev.tfkd.bench.MatmulCeiling;
import dev.tfkd.bench.Protocol;
import dev.tfkd.bench.RandomData;
import dev.tfkd.bench.Rss;
import dev.tfkd.bench.StepTimer;
import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.SyntheticShards;
import dev.tfkd.data.io.TfRecordShards;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.AtomicFiles;
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
import dev.tfkd.training.TrainStream;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * The reference training benchmarks ({@code tfkd bench}): each configuration trains through the real training
 * loop on random data for the timing protocol's windows and reports steps per second, samples per second, CPU time
 * per step and resident memory; {@code matmul} measures the matrix-multiply ceiling; {@link #soak} trains one
 * configuration for a fixed number of steps and follows resident memory.
 *
 * <p>It lives beside the model zoo because its reference configurations are zoo models (the small CNN, the CIFAR
 * ResNets); the protocol pieces (timer, ceiling, random data, memory) are in {@code dev.tfkd.bench} of the core.
 */
public final class Bench {
  /** Every configuration, in the order a full run measures them. */
  public static final List<String> CONFIGS =
      List.of(
          "matmul", "mlp", "mlp-stream", "cnn", "cnn-stream", "teacher-fwd", "kd-mlp-online", "kd-mlp-cached", "resnet8x4", "resnet32x4-fwd",
          "kd-resnet-online", "kd-resnet-cached");

  private static final long[] MNIST = {784};
  private static final long[] CIFAR = {32, 32, 3};
  private static final int CIFAR_CLASSES = 100;

  /**
   * What every configuration shares.
   *
   * @param settings the TensorFlow session's threads and device
   * @param protocol warm-up steps and timed windows
   * @param seed seed for data and weights
   * @param examples random training examples per configuration
   * @param matmulSize n of the n x n ceiling multiply
   */
  public record Options(SessionSettings settings, Protocol protocol, long seed, int examples, int matmulSize) {
    /** Validates the counts. */
    public Options {
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(protocol, "protocol");
      if (examples < 1) {
        throw new IllegalArgumentException("--examples must be >= 1, got " + examples);
      }
      if (matmulSize < 1) {
        throw new IllegalArgumentException("--matmul-size must be >= 1, got " + matmulSize);
      }
    }
  }

  private final Options options;
  private final long seed;
  private final Protocol protocol;
  private final ConfigProto sessionConfig;

  /** A benchmark with {@code options}. */
  public Bench(Options options) {
    this.options = Objects.requireNonNull(options, "options");
    this.seed = options.seed();
    this.protocol = options.protocol();
    this.sessionConfig = options.settings().toConfigProto();
  }

  /** Runs one configuration and returns its figures as ordered key/value pairs. */
  /**
   * Runs one configuration and returns its figures as ordered key/value pairs ({@code config}, {@code batch},
   * {@code steps_per_s}, {@code samples_per_s}, {@code cpu_ms_per_step}, memory, the window rates; {@code gflops}
   * for matmul, {@code cache_s} for the cached configurations).
   *
   * @throws IllegalArgumentException for a name not in {@link #CONFIGS}
   */
  public Map<String, Object> run(String config) {
    if (!CONFIGS.contains(config)) {
      throw new IllegalArgumentException("unknown configuration '" + config + "'; known: " + String.join(", ", CONFIGS));
    }
    Rss.resetPeak();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("config", config);
    switch (config) {
      case "matmul" -> {
        r.put("n", options.matmulSize());
        MatmulCeiling.Rate rate = MatmulCeiling.measure(options.matmulSize(), sessionConfig, protocol);
        r.put("gflops", rate.gflops());
        r.put("cpu_gflops", rate.cpuGflops());
      }
      case "mlp" -> train(r, mlp(), data(MNIST, 10), 128, new CrossEntropy(), null, null);
      case "cnn" -> train(r, cnn(), data(new long[] {28, 28, 1}, 10), 64, new CrossEntropy(), null, null);
      case "mlp-stream" -> streamed(r, mlp(), data(MNIST, 10), 128);
      case "cnn-stream" -> streamed(r, cnn(), data(new long[] {28, 28, 1}, 10), 64);
      case "teacher-fwd" -> forward(r, FrozenTeacher.initial(mlpTeacher(), seed), 128);
      case "kd-mlp-online" -> train(r, mlp(), data(MNIST, 10), 128, hinton(), null, FrozenTeacher.initial(mlpTeacher(), seed));
      case "kd-mlp-cached" -> cached(r, mlp(), mlpTeacher(), data(MNIST, 10), 128);
      case "resnet8x4" -> train(r, zoo("resnet8x4"), data(CIFAR, CIFAR_CLASSES), 64, new CrossEntropy(), null, null);
      case "resnet32x4-fwd" -> forward(r, FrozenTeacher.initial(zoo("resnet32x4"), seed), 64);
      case "kd-resnet-online" ->
          train(r, zoo("resnet8x4"), data(CIFAR, CIFAR_CLASSES), 64, hinton(), null,
              FrozenTeacher.initial(zoo("resnet32x4"), seed));
      case "kd-resnet-cached" -> cached(r, zoo("resnet8x4"), zoo("resnet32x4"), data(CIFAR, CIFAR_CLASSES), 64);
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
    TrainConfig cfg = new TrainConfig(1_000_000, batch, OptimizerConfig.adam(1e-3f), seed, options.settings().intraOpThreads());
    Trainer trainer = new Trainer(cfg, List.of(timer), sessionConfig);
    inWorkDir(work -> {
      if (online != null) {
        trainer.trainOnline(arch, data, objective, online, work);
      } else {
        trainer.train(arch, data, objective, teacherLogits, work);
      }
    });
    report(r, batch, timer);
  }

  /**
   * Trains on the same random data as the in-memory configuration, written as four TFRecord shards and streamed
   * (shuffle buffer, parser threads, prefetch) in one epoch that runs across passes: the pipeline's cost per step.
   */
  private void streamed(Map<String, Object> r, Architecture arch, Dataset data, int batch) {
    StepTimer timer = new StepTimer(protocol);
    TrainConfig cfg = new TrainConfig(1, batch, OptimizerConfig.adam(1e-3f), seed, options.settings().intraOpThreads());
    Trainer trainer = new Trainer(cfg, List.of(timer), sessionConfig);
    inWorkDir(work -> {
      SyntheticShards.write(data, work.resolve("data"), "train", 4);
      TfRecordShards shards = TfRecordShards.open(work.resolve("data").resolve("train-*.tfrecord").toString(), 0);
      TrainStream stream =
          new TrainStream(shards, TrainStream.DEFAULT_SHUFFLE_BUFFER, 1_000_000, TrainStream.DEFAULT_PARSER_THREADS);
      trainer.trainStreamed(arch, stream, new CrossEntropy(), null, work);
    });
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
  public static List<Map<String, Object>> summary(List<Map<String, Object>> results) {
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
    for (String m : List.of("mlp", "cnn")) {
      if (rate.containsKey(m) && rate.containsKey(m + "-stream")) {
        // Steps per second streamed over in memory: 1.0 when the pipeline keeps up.
        out.add(ordered("summary", m + "-stream-vs-" + m, "rate_ratio", rate.get(m + "-stream") / rate.get(m),
            "cpu_time_ratio", ratio(cpuMs, m + "-stream", m)));
      }
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

  /** One resident-memory sample of a soak run. */
  public record SoakSample(String config, long step, long rssKb) {}

  /**
   * Trains {@code config} for {@code steps} steps and reports resident memory: {@code onSample} gets a sample 20
   * times along the way; the result holds the growth after warm-up (the first tenth) and, under {@code
   * samples_mb}, every sample.
   */
  public Map<String, Object> soak(String config, long soakSteps, Consumer<SoakSample> onSample) {
    if (!CONFIGS.contains(config) || config.equals("matmul") || config.endsWith("-fwd")) {
      throw new IllegalArgumentException("--soak runs one training configuration, e.g. --config mlp");
    }
    if (soakSteps < 10) {
      throw new IllegalArgumentException("--steps must be >= 10, got " + soakSteps);
    }
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
              onSample.accept(new SoakSample(config, steps, kb));
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
        arch = zoo("resnet8x4");
        data = data(CIFAR, CIFAR_CLASSES);
        batch = 64;
        if (!config.equals("resnet8x4")) {
          teacher = FrozenTeacher.initial(zoo("resnet32x4"), seed);
        }
      }
    }
    float[] logits =
        config.endsWith("-cached") ? TeacherLogitCache.inMemory().logits(teacher, data, 512, sessionConfig) : null;
    TrainConfig cfg =
        new TrainConfig(1_000_000, batch, OptimizerConfig.adam(1e-3f), seed, options.settings().intraOpThreads());
    Trainer trainer = new Trainer(cfg, List.of(soaker), sessionConfig);
    long t0 = System.nanoTime();
    FrozenTeacher online = teacher;
    inWorkDir(work -> {
      if (config.endsWith("-online")) {
        trainer.trainOnline(arch, data, objective, online, work);
      } else {
        trainer.train(arch, data, objective, logits, work);
      }
    });
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
    r.put("samples_mb", samples.stream().mapToDouble(s -> s[1] / 1024.0).toArray());
    return r;
  }

  private Dataset data(long[] shape, int classes) {
    return RandomData.normal(options.examples(), shape, classes, seed);
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
    return Models.create("cnn", new long[] {28, 28, 1}, 10);
  }

  /** The zoo's model {@code name} for CIFAR-100 inputs. */
  private static Architecture zoo(String name) {
    return Models.create(name, CIFAR, CIFAR_CLASSES);
  }

  /** {@code r} as {@code key=value} pairs on one line. */
  public static String line(Map<String, Object> r) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Object> e : r.entrySet()) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(e.getKey()).append('=').append(value(e.getValue(), false));
    }
    return b.toString();
  }

  /** {@code r} as one JSON object. */
  public static String json(Map<String, Object> r) {
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

  /** Training that needs a scratch directory for its checkpoint, removed afterwards. */
  private interface InWorkDir {
    void run(Path work);
  }

  private static void inWorkDir(InWorkDir body) {
    Path work;
    try {
      work = Files.createTempDirectory("tfkd-bench-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary directory: " + e.getMessage(), e);
    }
    try {
      body.run(work);
    } finally {
      try {
        AtomicFiles.deleteRecursively(work);
      } catch (IOException e) {
        // A temporary directory we could not remove is not worth failing the benchmark for.
      }
    }
  }
}
