package dev.tfkd.experiments;

import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.Json;
import dev.tfkd.io.JsonReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tables of a {@link McmiStudy}, made from its files alone ({@code study.json} and the cell files): nothing is
 * trained, so the tables regenerate without rerunning and show partial studies as far as they got (each figure with
 * its number of seeds). Means are over seeds with the sample standard deviation; paired differences (MCMI minus MLL,
 * MCMI minus the lambda = 0 control, the same seed and cell on both sides) are summarised by {@link
 * PairedDifference}. Not thread-safe.
 */
public final class McmiStudyReport {
  /** How study.json records an optimizer (OptimizerConfig's record form). */
  private static final Pattern OPTIMIZER = Pattern.compile(
      "OptimizerConfig\\[kind=(\\w+), learningRate=([^,]+), momentum=([^,]+), weightDecay=([^,]+), schedule=(\\w+)]");

  private final Map<String, Object> config;
  private final List<Map<String, Object>> validation;
  private final List<Map<String, Object>> test;
  private final Map<String, Object> selection;

  private McmiStudyReport(
      Map<String, Object> config, List<Map<String, Object>> validation, List<Map<String, Object>> test,
      Map<String, Object> selection) {
    this.config = config;
    this.validation = validation;
    this.test = test;
    this.selection = selection;
  }

  /**
   * Reads a study directory.
   *
   * @param out the directory holding {@code study.json} and {@code cells/}
   * @return the report
   * @throws IOException when a file cannot be read; IllegalArgumentException when there is no study there
   */
  public static McmiStudyReport load(Path out) throws IOException {
    Path config = out.resolve("study.json");
    if (!Files.exists(config)) {
      throw new IllegalArgumentException(out + " holds no study (no study.json)");
    }
    StudyCells cells = new StudyCells(out.resolve("cells"));
    Path sel = out.resolve("selection.json");
    return new McmiStudyReport(
        JsonReader.object(Files.readString(config)), cells.all("validation"), cells.all("test"),
        Files.exists(sel) ? JsonReader.object(Files.readString(sel)) : null);
  }

  /**
   * Writes {@code results.md} (and {@code validation.md} if missing) into {@code out}, atomically.
   *
   * @param out the study directory
   * @throws IOException when a file cannot be written
   */
  public void writeTo(Path out) throws IOException {
    if (!Files.exists(out.resolve("validation.md"))) {
      AtomicFiles.writeString(out.resolve("validation.md"), validationMarkdown());
    }
    AtomicFiles.writeString(out.resolve("results.md"), markdown());
  }

  private String str(String key) {
    Object v = config.get(key);
    return v instanceof Double d && d == Math.rint(d) ? Long.toString(d.longValue()) : String.valueOf(v);
  }

  /**
   * An optimizer as study.json records it ({@code OptimizerConfig[kind=ADAM, learningRate=0.001, ...]}), for prose:
   * "Adam, lr 0.001" or "SGD, lr 0.05, momentum 0.9", with momentum, weight decay and schedule only where they are not
   * the defaults.
   */
  private String optimizer(String key) {
    String raw = str(key);
    Matcher m = OPTIMIZER.matcher(raw);
    if (!m.matches()) {
      return raw;
    }
    StringBuilder b = new StringBuilder(m.group(1).equals("ADAM") ? "Adam" : m.group(1));
    b.append(", lr ").append(m.group(2));
    if (Double.parseDouble(m.group(3)) != 0) {
      b.append(", momentum ").append(m.group(3));
    }
    if (Double.parseDouble(m.group(4)) != 0) {
      b.append(", weight decay ").append(m.group(4));
    }
    if (!m.group(5).equals("CONSTANT")) {
      b.append(", ").append(m.group(5).toLowerCase(Locale.ROOT)).append(" schedule");
    }
    return b.toString();
  }

  private List<Double> list(String key) {
    List<Double> out = new ArrayList<>();
    if (config.get(key) instanceof List<?> l) {
      l.forEach(v -> out.add(((Number) v).doubleValue()));
    }
    return out;
  }

  private static double num(Map<String, Object> cell, String key) {
    return JsonReader.number(cell, key);
  }

  private static String cellId(Map<String, Object> cell) {
    return String.valueOf(cell.get("cell"));
  }

  private static long seed(Map<String, Object> cell) {
    return (long) num(cell, "seed");
  }

  /** Values per seed of {@code key} over the cells that {@code which} accepts. */
  private static TreeMap<Long, Double> perSeed(List<Map<String, Object>> cells, Predicate<String> which, String key) {
    TreeMap<Long, Double> m = new TreeMap<>();
    for (Map<String, Object> c : cells) {
      if (which.test(cellId(c))) {
        m.put(seed(c), num(c, key));
      }
    }
    return m;
  }

  private static Predicate<String> endsWith(String suffix) {
    return id -> id.endsWith(suffix);
  }

  /** {@code mean ± sd} (n >= 2), {@code value (n = 1)}, or {@code -}. */
  static String meanSd(TreeMap<Long, Double> v, double scale, int digits) {
    double[] x = v.values().stream().mapToDouble(Double::doubleValue).filter(d -> !Double.isNaN(d)).toArray();
    if (x.length == 0) {
      return "-";
    }
    double[] s = McmiResult.stat(x);
    String f = "%." + digits + "f";
    if (x.length == 1) {
      return String.format(Locale.ROOT, f + " (n = 1)", s[0] * scale);
    }
    return String.format(Locale.ROOT, f + " ± " + f, s[0] * scale, s[1] * scale);
  }

  /** The paired differences {@code a - b} over the seeds both have. */
  static PairedDifference paired(TreeMap<Long, Double> a, TreeMap<Long, Double> b) {
    List<Double> d = new ArrayList<>();
    for (Map.Entry<Long, Double> e : a.entrySet()) {
      Double other = b.get(e.getKey());
      if (other != null && !Double.isNaN(other) && !Double.isNaN(e.getValue())) {
        d.add(e.getValue() - other);
      }
    }
    return PairedDifference.of(d.stream().mapToDouble(Double::doubleValue).toArray());
  }

  private record Choice(String suffix, double lambda, double lr, int epochs, double score, int n) {}

  private List<Choice> choices(String student, boolean control) {
    List<Choice> out = new ArrayList<>();
    for (double lr : list("finetuneLrs")) {
      for (double ep : list("finetuneEpochs")) {
        for (double lambda : control ? List.of(0.0) : list("lambdas")) {
          String suffix = McmiStudy.setting(lambda, lr, (int) ep);
          TreeMap<Long, Double> acc = perSeed(validation, endsWith("/student-" + student + "-" + suffix), "accuracy");
          double mean = acc.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
          out.add(new Choice(suffix, lambda, lr, (int) ep, mean, acc.size()));
        }
      }
    }
    return out;
  }

  private static Choice best(List<Choice> choices) {
    Choice best = null;
    for (Choice c : choices) {
      // Strictly greater: ties keep the first in grid order.
      if (!Double.isNaN(c.score()) && (best == null || c.score() > best.score())) {
        best = c;
      }
    }
    if (best == null) {
      throw new IllegalStateException("no validation results to choose from");
    }
    return best;
  }

  /**
   * The settings chosen on the validation split: the best mean validation accuracy of the distilled students.
   *
   * @return JSON with {@code lambda}, {@code finetuneLr}, {@code finetuneEpochs}, {@code controlFinetuneLr}, {@code
   *     controlFinetuneEpochs} and the scores
   */
  public String selectionJson() {
    Choice m = best(choices("kd-mcmi", false));
    Choice c = best(choices("kd-mll-ft0", true));
    return Json.object()
        .put("criterion", "mean validation accuracy of the distilled students (few-shot fraction " + str("selectFraction") + ")")
        .put("lambda", m.lambda()).put("finetuneLr", m.lr()).put("finetuneEpochs", m.epochs())
        .put("validationAccuracy", m.score())
        .put("controlFinetuneLr", c.lr()).put("controlFinetuneEpochs", c.epochs()).put("controlValidationAccuracy", c.score())
        .toString();
  }

  /**
   * The validation table: every teacher tried, its validation figures and its student's validation accuracy.
   *
   * @return Markdown
   */
  public String validationMarkdown() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT,
        "Validation split: %s of %s held out (stratified, split seed 1); %s seed(s) from %s; students distilled on a "
            + "stratified %s of the rest, scored on the held-out part. Test data not used.%n%n",
        str("validationSplit"), str("train"), str("selectSeeds"), str("firstSeed"), str("selectFraction")));
    b.append("| teacher | lambda | fine-tune lr | fine-tune epochs | train accuracy | train CMI | validation accuracy |"
        + " validation NLL | validation ECE | student validation accuracy |\n");
    b.append("| :-- | --: | --: | --: | --: | --: | --: | --: | --: | --: |\n");
    row(b, "alone (no teacher)", "-", "-", "-", null, "/student-alone");
    row(b, "mll", "-", "-", "-", "/teacher-mll", "/student-kd-mll");
    for (Choice c : choices("kd-mll-ft0", true)) {
      row(b, "mll-ft0", "0", fmt(c.lr()), Integer.toString(c.epochs()), "/teacher-mll-ft0-" + c.suffix(),
          "/student-kd-mll-ft0-" + c.suffix());
    }
    for (Choice c : choices("kd-mcmi", false)) {
      row(b, "mcmi", fmt(c.lambda()), fmt(c.lr()), Integer.toString(c.epochs()), "/teacher-mcmi-" + c.suffix(),
          "/student-kd-mcmi-" + c.suffix());
    }
    if (selection != null) {
      b.append(String.format(Locale.ROOT,
          "%nChosen (%s): MCMI lambda %s, fine-tuning lr %s, %s epochs; control lr %s, %s epochs.%n",
          selection.get("criterion"), fmt(num(selection, "lambda")), fmt(num(selection, "finetuneLr")),
          (long) num(selection, "finetuneEpochs"), fmt(num(selection, "controlFinetuneLr")),
          (long) num(selection, "controlFinetuneEpochs")));
    }
    return b.toString();
  }

  private static String fmt(double v) {
    return McmiStudy.setting(v, 1, 1).replaceFirst("^l", "").replaceFirst("-lr1-e1$", "");
  }

  private void row(StringBuilder b, String name, String lambda, String lr, String ep, String teacher, String student) {
    b.append("| ").append(name).append(" | ").append(lambda).append(" | ").append(lr).append(" | ").append(ep);
    if (teacher == null) {
      b.append(" | - | - | - | - | -");
    } else {
      b.append(" | ").append(meanSd(perSeed(validation, endsWith(teacher), "trainAccuracy"), 100, 2))
          .append(" | ").append(meanSd(perSeed(validation, endsWith(teacher), "trainCmi"), 1, 4))
          .append(" | ").append(meanSd(perSeed(validation, endsWith(teacher), "accuracy"), 100, 2))
          .append(" | ").append(meanSd(perSeed(validation, endsWith(teacher), "nll"), 1, 4))
          .append(" | ").append(meanSd(perSeed(validation, endsWith(teacher), "ece"), 100, 2));
    }
    b.append(" | ").append(meanSd(perSeed(validation, endsWith(student), "accuracy"), 100, 2)).append(" |\n");
  }

  /**
   * The whole report: configuration, validation table and choice, teachers, paired teacher differences, few-shot
   * and zero-shot students with paired differences.
   *
   * @return Markdown
   */
  public String markdown() {
    boolean posterior = Boolean.TRUE.equals(config.get("posterior"));
    int seeds = (int) num(config, "seeds");
    List<Double> fractions = list("fractions");
    List<Double> classes = list("omitClasses");
    int expected = seeds * (McmiStudy.TEACHERS.size() + McmiStudy.STUDENTS.size() * (fractions.size() + classes.size()));
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT,
        "Training data %s (%s examples), test data %s (%s examples)%s. Teacher %s (MLL: %s epochs, %s, batch %s), "
            + "centroids %s; student %s (%s, %s full-data epochs; every few-shot student gets the same number of steps); "
            + "distillation %s. Test cells finished: %d of %d.%n%n",
        str("train"), str("trainExamples"), str("test"), str("testExamples"),
        posterior ? ", with a posterior" : "", str("teacher"), str("teacherEpochs"), optimizer("teacherOptimizer"),
        str("batchSize"), str("centroids"), str("student"), optimizer("studentOptimizer"), str("studentEpochs"),
        str("method"), test.size(), expected));
    b.append("### Validation (settings chosen here, before any test figure)\n\n").append(validationMarkdown());

    b.append("\n### Teachers (test data)\n\nAccuracy and ECE in %, CMI in nats; train = the teacher's own training data, "
        + "CMI with its training centroids; mean ± sample sd over seeds.\n\n");
    b.append("| teacher | train accuracy | train CMI | test accuracy | test NLL | test ECE | test CMI |");
    b.append(posterior ? " BCPD error | KL(posterior‖teacher) |\n" : "\n");
    b.append("| :-- | --: | --: | --: | --: | --: | --: |").append(posterior ? " --: | --: |\n" : "\n");
    for (String t : McmiStudy.TEACHERS) {
      Predicate<String> w = endsWith("/teacher-" + t);
      b.append("| ").append(t)
          .append(" | ").append(meanSd(perSeed(test, w, "trainAccuracy"), 100, 2))
          .append(" | ").append(meanSd(perSeed(test, w, "trainCmi"), 1, 4))
          .append(" | ").append(meanSd(perSeed(test, w, "accuracy"), 100, 2))
          .append(" | ").append(meanSd(perSeed(test, w, "nll"), 1, 4))
          .append(" | ").append(meanSd(perSeed(test, w, "ece"), 100, 2))
          .append(" | ").append(meanSd(perSeed(test, w, "cmi"), 1, 4));
      if (posterior) {
        b.append(" | ").append(meanSd(perSeed(test, w, "bcpdError"), 1, 5))
            .append(" | ").append(meanSd(perSeed(test, w, "klToPosterior"), 1, 4));
      }
      b.append(" |\n");
    }
    b.append("\nPaired differences of the teachers (same seed): mean ± sd [95% t-interval] and how many seeds are > 0.\n\n");
    b.append("| figure | MCMI − MLL | MCMI − control |\n| :-- | :-- | :-- |\n");
    String[][] figures = {
      {"train CMI", "trainCmi", "1", "4"}, {"test accuracy (points)", "accuracy", "100", "2"},
      {"test NLL", "nll", "1", "4"}, {"test ECE (points)", "ece", "100", "2"}, {"BCPD error", "bcpdError", "1", "5"},
      {"KL(posterior‖teacher)", "klToPosterior", "1", "4"}
    };
    for (String[] f : figures) {
      if (!posterior && (f[1].equals("bcpdError") || f[1].equals("klToPosterior"))) {
        continue;
      }
      TreeMap<Long, Double> mcmi = perSeed(test, endsWith("/teacher-mcmi"), f[1]);
      double scale = Double.parseDouble(f[2]);
      int digits = Integer.parseInt(f[3]);
      b.append("| ").append(f[0])
          .append(" | ").append(paired(mcmi, perSeed(test, endsWith("/teacher-mll"), f[1])).format(scale, digits))
          .append(" | ").append(paired(mcmi, perSeed(test, endsWith("/teacher-mll-ft0"), f[1])).format(scale, digits))
          .append(" |\n");
    }

    if (!fractions.isEmpty()) {
      b.append("\n### Few-shot students (test accuracy in %)\n\nThe students train on a stratified fraction of the "
          + "training data (drawn per seed); differences in points, paired by seed.\n\n");
      studentTable(b, "fraction", fractions, f -> "/few-shot-" + f + "/", "accuracy", f -> fmtFraction(f));
    }
    if (!classes.isEmpty()) {
      b.append("\n### Zero-shot students: test accuracy in % on the class they never saw\n\nEach row trains without "
          + "that one class (the teachers saw it); a student alone never learns it (it can only score above 0 by chance).\n\n");
      studentTable(b, "omitted class", classes, c -> "/zero-shot-" + c.intValue() + "/", "omittedAccuracy",
          c -> Integer.toString(c.intValue()));
      b.append("\n### Zero-shot students: test accuracy in % on all classes\n\n");
      studentTable(b, "omitted class", classes, c -> "/zero-shot-" + c.intValue() + "/", "accuracy",
          c -> Integer.toString(c.intValue()));
    }
    return b.toString();
  }

  private static String fmtFraction(double f) {
    return String.format(Locale.ROOT, "%s%%", fmt(100 * f));
  }

  private void studentTable(
      StringBuilder b, String head, List<Double> keys, java.util.function.Function<Double, String> dir, String key,
      java.util.function.Function<Double, String> label) {
    b.append("| ").append(head).append(" | ").append(String.join(" | ", McmiStudy.STUDENTS))
        .append(" | MCMI − MLL | MCMI − control |\n| :-- |")
        .append(" --: |".repeat(McmiStudy.STUDENTS.size())).append(" :-- | :-- |\n");
    for (double k : keys) {
      String d = dir.apply(k);
      b.append("| ").append(label.apply(k));
      for (String s : McmiStudy.STUDENTS) {
        b.append(" | ").append(meanSd(perSeed(test, endsWith(d + s), key), 100, 2));
      }
      TreeMap<Long, Double> mcmi = perSeed(test, endsWith(d + "kd-mcmi"), key);
      b.append(" | ").append(paired(mcmi, perSeed(test, endsWith(d + "kd-mll"), key)).format(100, 2))
          .append(" | ").append(paired(mcmi, perSeed(test, endsWith(d + "kd-mll-ft0"), key)).format(100, 2))
          .append(" |\n");
    }
  }
}
