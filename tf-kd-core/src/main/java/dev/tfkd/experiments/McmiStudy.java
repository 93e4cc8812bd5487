package dev.tfkd.experiments;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Subsets;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.Json;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.training.CrossEntropy;
import dev.tfkd.training.Objective;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The MCMI study (Ye et al., ICLR 2024, its few-shot and zero-shot protocol), checkpointed cell by cell.
 *
 * <p>Phase 1, validation: the training data is split (stratified, {@code validationFraction}, split seed 1) into a
 * training part and a validation part. For each of the first {@code selectSeeds} seeds an MLL teacher is trained on
 * the training part; for every grid point (lambda, fine-tuning learning rate, fine-tuning epochs) an MCMI teacher is
 * fine-tuned from it, and for every (learning rate, epochs) a lambda = 0 control; a student is distilled from each
 * on a stratified {@code selectFraction} of the training part and scored on the validation part. The MCMI setting
 * and the control's setting with the best mean validation accuracy of their students are chosen (ties: the first
 * in grid order), written to {@code selection.json} and {@code validation.md} <em>before</em> any test cell runs.
 *
 * <p>Phase 2, test: for each seed, teachers {@code mll} (on all the training data), {@code mll-ft0} and {@code
 * mcmi} (the chosen settings), each scored on its training data (accuracy, CMI) and on the test data (accuracy,
 * NLL, ECE, CMI, and BCPD error and KL to the posterior when the test data has one); students {@code alone}, {@code
 * kd-mll}, {@code kd-mll-ft0}, {@code kd-mcmi} on each few-shot fraction (stratified, seeded by the seed) and on the
 * training data without each class of {@code omitClasses} in turn (zero-shot). A few-shot student gets the same
 * number of optimisation steps as one on all the data ({@code studentEpochs} full epochs), so small fractions are not
 * simply under-trained.
 *
 * <p>Every cell's result is one JSON file (see {@link StudyCells}); {@link McmiStudyReport} makes the tables from
 * those files alone. Teacher checkpoints live in a work directory that is not part of the results; a cell that needs
 * a teacher whose checkpoint is gone retrains it (same seed, same configuration).
 *
 * @param teacher teacher architecture, MLL configuration and the fine-tuning the grid varies
 * @param student student architecture, configuration (epochs = full-data epochs) and distillation objective
 * @param grid the fine-tuning settings tried on the validation split
 * @param fractions few-shot fractions of the training data, each in (0, 1]
 * @param omitClasses zero-shot: each class is left out in turn
 * @param seeds number of test seeds, from {@code firstSeed}
 * @param firstSeed first seed
 * @param selectSeeds how many of the seeds (from {@code firstSeed}) the validation phase uses
 * @param validationFraction the validation part of the training data, in (0, 1)
 * @param selectFraction the few-shot fraction of the validation phase's students, in (0, 1]
 */
public record McmiStudy(
    McmiExperiment.TeacherPlan teacher,
    McmiExperiment.StudentPlan student,
    Grid grid,
    List<Double> fractions,
    List<Integer> omitClasses,
    int seeds,
    long firstSeed,
    int selectSeeds,
    double validationFraction,
    double selectFraction) {

  /** Teacher names of the test phase, in report order. */
  public static final List<String> TEACHERS = List.of("mll", "mll-ft0", "mcmi");

  /** Student names, in report order. */
  public static final List<String> STUDENTS = List.of("alone", "kd-mll", "kd-mll-ft0", "kd-mcmi");

  /**
   * The fine-tuning settings tried on the validation split; the control tries every (learning rate, epochs).
   *
   * @param lambdas CMI weights, each > 0
   * @param learningRates fine-tuning base learning rates (SGD, cosine), each > 0
   * @param epochs fine-tuning epochs, each >= 1
   */
  public record Grid(List<Double> lambdas, List<Double> learningRates, List<Integer> epochs) {
    /** Validates the grid; throws IllegalArgumentException for an empty list or a value out of range. */
    public Grid {
      lambdas = List.copyOf(lambdas);
      learningRates = List.copyOf(learningRates);
      epochs = List.copyOf(epochs);
      if (lambdas.isEmpty() || learningRates.isEmpty() || epochs.isEmpty()) {
        throw new IllegalArgumentException("--lambda, --finetune-lr and --finetune-epochs need at least one value each");
      }
      lambdas.forEach(l -> check(l > 0, "--lambda values must be > 0, got " + l));
      learningRates.forEach(l -> check(l > 0, "--finetune-lr values must be > 0, got " + l));
      epochs.forEach(e -> check(e >= 1, "--finetune-epochs values must be >= 1, got " + e));
    }
  }

  /** Validates the study; throws IllegalArgumentException naming the option that is out of range. */
  public McmiStudy {
    Objects.requireNonNull(teacher, "teacher");
    Objects.requireNonNull(student, "student");
    if (student.distillation().needsFeatures()) {
      // Its cells distil from teacher logits computed once per cell; feature terms need the teacher in the graph.
      throw new IllegalArgumentException(
          "the study distils from cached teacher logits and takes a logit divergence; "
              + student.distillation().describe() + " reads feature points (run it with experiment mcmi)");
    }
    Objects.requireNonNull(grid, "grid");
    fractions = List.copyOf(fractions);
    omitClasses = List.copyOf(omitClasses);
    fractions.forEach(f -> check(f > 0 && f <= 1, "--fractions values must be in (0, 1], got " + f));
    check(!fractions.isEmpty() || !omitClasses.isEmpty(), "--fractions and --omit-classes are both empty: nothing to study");
    check(seeds >= 1, "--seeds must be >= 1, got " + seeds);
    check(selectSeeds >= 1 && selectSeeds <= seeds, "--select-seeds must be in [1, --seeds], got " + selectSeeds);
    check(validationFraction > 0 && validationFraction < 1, "--validation-split must be in (0, 1), got " + validationFraction);
    check(selectFraction > 0 && selectFraction <= 1, "--select-fraction must be in (0, 1], got " + selectFraction);
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * The configuration as JSON ({@code study.json}): what the cells were computed with. A study directory refuses a
   * run with another configuration.
   *
   * @param train the training data
   * @param test the test data
   * @return one JSON object on one line
   */
  public String configJson(Dataset train, Dataset test) {
    return Json.object()
        .put("train", train.name()).put("trainExamples", train.size())
        .put("test", test.name()).put("testExamples", test.size()).put("posterior", test.hasPosterior())
        .put("classes", train.numClasses())
        .put("teacher", teacher.architecture().name())
        .put("teacherEpochs", teacher.config().epochs())
        .put("teacherOptimizer", teacher.config().optimizer().toString())
        .put("batchSize", teacher.config().batchSize())
        .put("centroids", teacher.fineTune().centroids().cliName())
        .put("student", student.architecture().name())
        .put("studentEpochs", student.config().epochs())
        .put("studentOptimizer", student.config().optimizer().toString())
        .put("method", student.distillation().describe())
        .put("lambdas", grid.lambdas()).put("finetuneLrs", grid.learningRates()).put("finetuneEpochs", grid.epochs())
        .put("fractions", fractions).put("omitClasses", omitClasses)
        .put("seeds", seeds).put("firstSeed", firstSeed).put("selectSeeds", selectSeeds)
        .put("validationSplit", validationFraction).put("selectFraction", selectFraction)
        .toString();
  }

  /**
   * Runs every cell that has not finished (or waits for cells other processes hold), writing {@code study.json},
   * {@code cells/}, {@code validation.md}, {@code selection.json} and {@code results.md} under {@code out}.
   *
   * @param train the training data
   * @param test the test data (with a posterior for BCPD error and KL)
   * @param out the study directory (results, committed)
   * @param work the teachers' checkpoints (not results; may be deleted)
   * @param log progress lines
   * @throws IOException when a file cannot be written
   */
  public void run(Dataset train, Dataset test, Path out, Path work, PrintWriter log) throws IOException {
    for (int c : omitClasses) {
      check(c >= 0 && c < train.numClasses(), "--omit-classes: class " + c + " is outside [0, " + train.numClasses() + ")");
    }
    check(train.numClasses() == test.numClasses(), "the training and test data have different class counts");
    Files.createDirectories(out);
    Path config = out.resolve("study.json");
    String json = configJson(train, test);
    if (Files.exists(config)) {
      String old = Files.readString(config).strip();
      check(old.equals(json), config + " holds a study with another configuration; use another --out");
    } else {
      AtomicFiles.writeString(config, json + "\n");
    }
    Files.createDirectories(work);
    if (!Files.exists(out.resolve(".gitignore"))) {
      // Claims are transient and the default work directory holds checkpoints: neither is a result.
      AtomicFiles.writeString(out.resolve(".gitignore"), "work/\n*.claim\n");
    }
    StudyCells cells = new StudyCells(out.resolve("cells"));
    Runner runner = new Runner(cells, work, log);

    Dataset[] parts = Subsets.stratifiedSplit(train, validationFraction, 1);
    Dataset trainPart = parts[0];
    Dataset validation = parts[1];
    for (int s = 0; s < selectSeeds; s++) {
      long seed = firstSeed + s;
      String dir = "validation/seed-" + seed + "/";
      runner.teacher(dir + "teacher-mll", seed, "mll", trainPart, validation, null, null);
      Dataset fewShot = Subsets.stratifiedFraction(trainPart, selectFraction, seed);
      runner.student(dir + "student-alone", seed, "alone", null, fewShot, validation, trainPart.size(), -1);
      runner.student(dir + "student-kd-mll", seed, "kd-mll", dir + "teacher-mll", fewShot, validation, trainPart.size(), -1);
      for (double lr : grid.learningRates()) {
        for (int ep : grid.epochs()) {
          String ft0 = dir + "teacher-mll-ft0-" + setting(0, lr, ep);
          runner.teacher(ft0, seed, "mll-ft0", trainPart, validation, dir + "teacher-mll", fineTune(0, lr, ep));
          runner.student(dir + "student-kd-mll-ft0-" + setting(0, lr, ep), seed, "kd-mll-ft0", ft0, fewShot, validation,
              trainPart.size(), -1);
          for (double lambda : grid.lambdas()) {
            String mcmi = dir + "teacher-mcmi-" + setting(lambda, lr, ep);
            runner.teacher(mcmi, seed, "mcmi", trainPart, validation, dir + "teacher-mll", fineTune(lambda, lr, ep));
            runner.student(dir + "student-kd-mcmi-" + setting(lambda, lr, ep), seed, "kd-mcmi", mcmi, fewShot, validation,
                trainPart.size(), -1);
          }
        }
      }
    }
    runner.drain();

    Path selectionFile = out.resolve("selection.json");
    if (!Files.exists(selectionFile)) {
      // The validation table and the choice are on disk before any test cell exists.
      AtomicFiles.writeString(selectionFile, McmiStudyReport.load(out).selectionJson() + "\n");
      AtomicFiles.writeString(out.resolve("validation.md"), McmiStudyReport.load(out).validationMarkdown());
      log.println("wrote " + selectionFile + " and " + out.resolve("validation.md"));
    }
    Map<String, Object> selection = dev.tfkd.io.JsonReader.object(Files.readString(selectionFile));
    McmiFineTune mcmiFt = fineTune(
        selected(selection, "lambda"), selected(selection, "finetuneLr"), (int) selected(selection, "finetuneEpochs"));
    McmiFineTune ft0 = fineTune(0, selected(selection, "controlFinetuneLr"), (int) selected(selection, "controlFinetuneEpochs"));
    log.printf(Locale.ROOT, "chosen on the validation split: mcmi %s, control %s%n", setting(mcmiFt.lambda(),
        mcmiFt.optimizer().learningRate(), mcmiFt.epochs()), setting(0, ft0.optimizer().learningRate(), ft0.epochs()));

    for (int s = 0; s < seeds; s++) {
      long seed = firstSeed + s;
      String dir = "test/seed-" + seed + "/";
      runner.teacher(dir + "teacher-mll", seed, "mll", train, test, null, null);
      runner.teacher(dir + "teacher-mll-ft0", seed, "mll-ft0", train, test, dir + "teacher-mll", ft0);
      runner.teacher(dir + "teacher-mcmi", seed, "mcmi", train, test, dir + "teacher-mll", mcmiFt);
      for (double f : fractions) {
        Dataset fewShot = Subsets.stratifiedFraction(train, f, seed);
        for (String name : STUDENTS) {
          runner.student(dir + "few-shot-" + f + "/" + name, seed, name, teacherOf(dir, name), fewShot, test, train.size(), -1);
        }
      }
      for (int c : omitClasses) {
        Dataset without = Subsets.omitClasses(train, c);
        for (String name : STUDENTS) {
          runner.student(dir + "zero-shot-" + c + "/" + name, seed, name, teacherOf(dir, name), without, test, without.size(), c);
        }
      }
    }
    runner.drain();
    McmiStudyReport.load(out).writeTo(out);
    log.println("wrote " + out.resolve("results.md"));
  }

  private static double selected(Map<String, Object> m, String name) {
    double v = dev.tfkd.io.JsonReader.number(m, name);
    check(!Double.isNaN(v), "selection.json has no " + name);
    return v;
  }

  private static String teacherOf(String dir, String student) {
    return student.equals("alone") ? null : dir + "teacher-" + student.substring(3);
  }

  /** The cell-name suffix of a fine-tuning setting. */
  static String setting(double lambda, double lr, int epochs) {
    return String.format(Locale.ROOT, "l%s-lr%s-e%d", num(lambda), num(lr), epochs);
  }

  private static String num(double v) {
    String s = Float.toString((float) v);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }

  private McmiFineTune fineTune(double lambda, double lr, int epochs) {
    McmiFineTune base = teacher.fineTune();
    return new McmiFineTune((float) lambda, base.centroids(), base.emaMomentum(), epochs, base.optimizer())
        .withLearningRate((float) lr);
  }

  /** Queues cells and runs them in order, each under a claim; a cell whose dependency is held elsewhere waits. */
  private final class Runner {
    private final StudyCells cells;
    private final Path work;
    private final PrintWriter log;
    private final Map<String, Cell> pending = new LinkedHashMap<>();
    private final Map<String, TeacherSpec> teachers = new LinkedHashMap<>();

    private record Cell(String id, String dependency, Supplier<String> body) {}

    /** How to (re)build a teacher's checkpoint: training data, seed, parent and fine-tuning (null for MLL). */
    private record TeacherSpec(long seed, Dataset train, String parent, McmiFineTune fineTune) {}

    Runner(StudyCells cells, Path work, PrintWriter log) {
      this.cells = cells;
      this.work = work;
      this.log = log;
    }

    void teacher(String id, long seed, String name, Dataset train, Dataset eval, String parent, McmiFineTune ft) {
      teachers.put(id, new TeacherSpec(seed, train, parent, ft));
      pending.put(id, new Cell(id, parent, () -> {
        TrainedModel m = teacherModel(id);
        try (InferenceModel im = m.load(Trainer.sessionConfig(teacher.config().threads()))) {
          float[] trainLogits = im.logits(train);
          double[] centroids = EmpiricalCmi.centroids(trainLogits, train.labels(), train.numClasses(), 1);
          Evaluation onTrain = Metrics.evaluate(trainLogits, train, centroids);
          Evaluation ev = Metrics.evaluate(im.logits(eval), eval);
          log.printf(Locale.ROOT, "    %s: train accuracy %.4f, train CMI %.4f; eval accuracy %.4f, NLL %.4f%n", id,
              onTrain.accuracy(), onTrain.cmi(), ev.accuracy(), ev.nll());
          Json.Members j = Json.object().put("kind", "teacher").put("name", name).put("seed", seed)
              .put("trainExamples", train.size()).put("evalExamples", eval.size());
          if (ft != null) {
            j.put("lambda", (Object) ft.lambda()).put("finetuneLr", (Object) ft.optimizer().learningRate())
                .put("finetuneEpochs", ft.epochs());
          }
          j.put("trainAccuracy", onTrain.accuracy()).put("trainNll", onTrain.nll()).put("trainCmi", onTrain.cmi());
          putEval(j, ev);
          return j.toString();
        }
      }));
    }

    void student(String id, long seed, String name, String teacherId, Dataset data, Dataset eval, int fullSize, int omitted) {
      pending.put(id, new Cell(id, teacherId, () -> {
        TrainConfig cfg = student.config().withSeed(seed + 7919);
        int bs = cfg.batchSize();
        // Same number of optimisation steps as studentEpochs over fullSize examples.
        long steps = (long) cfg.epochs() * ((fullSize + bs - 1) / bs);
        int epochs = (int) Math.max(1, (steps + (data.size() + bs - 1) / bs - 1) / ((data.size() + bs - 1) / bs));
        cfg = cfg.withEpochs(epochs);
        float[] teacherLogits = null;
        Objective objective = new CrossEntropy();
        if (teacherId != null) {
          try (InferenceModel im = teacherModel(teacherId).load(Trainer.sessionConfig(cfg.threads()))) {
            teacherLogits = im.logits(data);
          }
          objective = student.distillation();
        }
        Path scratch = scratch(id);
        try {
          TrainedModel sm = new Trainer(cfg, List.of()).train(student.architecture(), data, objective, teacherLogits, scratch);
          try (InferenceModel im = sm.load(Trainer.sessionConfig(cfg.threads()))) {
            Evaluation ev = Metrics.evaluate(im.logits(eval), eval);
            log.printf(Locale.ROOT, "    %s (%d examples, %d epochs): accuracy %.4f%s%n", id, data.size(), epochs,
                ev.accuracy(), omitted >= 0 ? String.format(Locale.ROOT, ", class %d %.4f", omitted, ev.classAccuracy(omitted)) : "");
            Json.Members j = Json.object().put("kind", "student").put("name", name).put("seed", seed)
                .put("trainExamples", data.size()).put("epochs", epochs);
            if (omitted >= 0) {
              j.put("omittedClass", omitted).put("omittedAccuracy", ev.classAccuracy(omitted));
            }
            putEval(j, ev);
            return j.toString();
          }
        } finally {
          AtomicFiles.deleteQuietly(scratch);
        }
      }));
    }

    /** The teacher's trained model: from its checkpoint in the work directory, or trained again if it is gone. */
    private TrainedModel teacherModel(String id) {
      TeacherSpec spec = teachers.get(id);
      Path dir = work.resolve(id);
      Path marker = dir.resolve("checkpoint-prefix");
      try {
        if (Files.exists(marker)) {
          Path prefix = dir.resolve(Files.readString(marker).strip());
          return new TrainedModel(teacher.architecture(), prefix, List.of(), 0);
        }
        AtomicFiles.deleteQuietly(dir);
        Files.createDirectories(dir);
        TrainConfig cfg = teacher.config().withSeed(spec.seed());
        TrainedModel m;
        if (spec.fineTune() == null) {
          log.printf("    training %s (%s, %d epochs)%n", id, teacher.architecture().name(), cfg.epochs());
          log.flush();
          m = new Trainer(cfg, List.of()).train(teacher.architecture(), spec.train(), new CrossEntropy(), null, dir);
        } else {
          TrainedModel parent = teacherModel(spec.parent());
          log.printf(Locale.ROOT, "    fine-tuning %s (lambda %s, lr %s, %d epochs)%n", id, spec.fineTune().lambda(),
              spec.fineTune().optimizer().learningRate(), spec.fineTune().epochs());
          log.flush();
          m = spec.fineTune().run(parent, spec.train(), cfg, List.of(), dir);
        }
        AtomicFiles.writeString(marker, dir.relativize(m.checkpointPrefix()).toString());
        return m;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private Path scratch(String id) {
      try {
        Path p = work.resolve("scratch").resolve(id.replace('/', '_') + "-" + ProcessHandle.current().pid());
        AtomicFiles.deleteQuietly(p);
        return Files.createDirectories(p);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Runs every queued cell; waits (polling) while a cell or its dependency is held by another process. */
    void drain() {
      while (!pending.isEmpty()) {
        boolean progressed = false;
        for (Cell c : new ArrayList<>(pending.values())) {
          if (cells.read(c.id()).isPresent()) {
            pending.remove(c.id());
            progressed = true;
            continue;
          }
          if (c.dependency() != null && cells.read(c.dependency()).isEmpty()) {
            continue;
          }
          if (!cells.claim(c.id())) {
            continue;
          }
          log.println("  cell " + c.id());
          log.flush();
          long t0 = System.nanoTime();
          try {
            String result = c.body().get();
            double seconds = (System.nanoTime() - t0) / 1e9;
            String withTime = result.substring(0, result.length() - 1)
                + String.format(Locale.ROOT, ",\"cell\":%s,\"seconds\":%.1f}", Json.quoted(c.id()), seconds);
            cells.finish(c.id(), withTime);
          } catch (RuntimeException | Error e) {
            cells.release(c.id());
            throw e;
          }
          pending.remove(c.id());
          progressed = true;
        }
        if (!progressed && !pending.isEmpty()) {
          // Everything left is held by another process (or waits for a cell that is): poll.
          try {
            Thread.sleep(5000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for other processes' cells", e);
          }
        }
      }
    }
  }

  static void putEval(Json.Members j, Evaluation ev) {
    j.put("accuracy", ev.accuracy()).put("nll", ev.nll()).put("ece", ev.ece()).put("cmi", ev.cmi())
        .put("bcpdError", ev.bcpdError()).put("klToPosterior", ev.klToPosterior())
        .put("perClassAccuracy", ev.perClassAccuracy());
  }
}
