package dev.tfkd.experiments;

import dev.tfkd.io.Json;
import dev.tfkd.metrics.Evaluation;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The numbers of one {@link McmiExperiment} run, per seed, with Markdown and JSON renderings that report mean and
 * sample standard deviation over seeds. Not thread-safe.
 */
public final class McmiResult {
  private final McmiExperiment experiment;
  private final String trainName;
  private final String evalName;
  private final boolean posteriorKnown;
  Evaluation bayes;
  private final List<TeacherRow> teachers = new ArrayList<>();
  private final List<StudentRow> students = new ArrayList<>();

  /** One teacher on one seed: its evaluation on the held-out data and its CMI on the training data. */
  public record TeacherRow(String name, long seed, Evaluation eval, double trainCmi) {}

  /** One student on one seed and protocol. */
  public record StudentRow(String setting, String name, long seed, Evaluation eval) {}

  McmiResult(McmiExperiment experiment, String trainName, String evalName, boolean posteriorKnown) {
    this.experiment = experiment;
    this.trainName = trainName;
    this.evalName = evalName;
    this.posteriorKnown = posteriorKnown;
  }

  void addTeacher(String name, long seed, Evaluation eval, double trainCmi) {
    teachers.add(new TeacherRow(name, seed, eval, trainCmi));
  }

  void addStudent(String setting, String name, long seed, Evaluation eval) {
    students.add(new StudentRow(setting, name, seed, eval));
  }

  /**
   * One row per teacher trained.
   *
   * @return the teacher rows
   */
  public List<TeacherRow> teachers() {
    return List.copyOf(teachers);
  }

  /**
   * One row per student trained.
   *
   * @return the student rows
   */
  public List<StudentRow> students() {
    return List.copyOf(students);
  }

  /** Mean and sample standard deviation (0 for one value) of {@code f} over the rows of one teacher. */
  public double[] teacherStat(String name, ToDoubleFunction<TeacherRow> f) {
    return stat(teachers.stream().filter(r -> r.name().equals(name)).mapToDouble(f).toArray());
  }

  /** Mean and sample standard deviation of {@code f} over the seeds of one student cell. */
  public double[] studentStat(String setting, String name, ToDoubleFunction<Evaluation> f) {
    return stat(
        students.stream()
            .filter(r -> r.setting().equals(setting) && r.name().equals(name))
            .mapToDouble(r -> f.applyAsDouble(r.eval()))
            .toArray());
  }

  static double[] stat(double[] v) {
    if (v.length == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double mean = 0;
    for (double d : v) {
      mean += d;
    }
    mean /= v.length;
    double ss = 0;
    for (double d : v) {
      ss += (d - mean) * (d - mean);
    }
    return new double[] {mean, v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0};
  }

  private static String pm(double[] s, int digits, double scale) {
    if (Double.isNaN(s[0])) {
      return "-";
    }
    String f = "%." + digits + "f";
    return String.format(Locale.ROOT, f + " ± " + f, s[0] * scale, s[1] * scale);
  }

  /** The tables as Markdown: teachers, students per protocol, and the zero-shot students' omitted classes. */
  public String markdown() {
    StringBuilder b = new StringBuilder();
    int n = experiment.seeds();
    b.append(
        String.format(
            Locale.ROOT,
            "Training data %s, evaluated on %s; %d seed(s) from %d; mean ± sample std over seeds.%n%n",
            trainName, evalName, n, experiment.firstSeed()));
    b.append("Teachers (accuracy and ECE in %; CMI in nats):\n\n");
    b.append("| teacher | accuracy | NLL | ECE | CMI (train) | CMI (eval) |");
    b.append(posteriorKnown ? " BCPD error | KL(posterior‖teacher) |\n" : "\n");
    b.append("| :-- | --: | --: | --: | --: | --: |").append(posteriorKnown ? " --: | --: |\n" : "\n");
    if (bayes != null) {
      b.append(
          String.format(
              Locale.ROOT, "| Bayes posterior | %.2f | %.4f | %.2f | - | %.4f | 0 | 0 |%n",
              100 * bayes.accuracy(), bayes.nll(), 100 * bayes.ece(), bayes.cmi()));
    }
    for (String t : experiment.teacherNames()) {
      b.append("| ").append(t)
          .append(" | ").append(pm(teacherStat(t, r -> r.eval().accuracy()), 2, 100))
          .append(" | ").append(pm(teacherStat(t, r -> r.eval().nll()), 4, 1))
          .append(" | ").append(pm(teacherStat(t, r -> r.eval().ece()), 2, 100))
          .append(" | ").append(pm(teacherStat(t, TeacherRow::trainCmi), 4, 1))
          .append(" | ").append(pm(teacherStat(t, r -> r.eval().cmi()), 4, 1));
      if (posteriorKnown) {
        b.append(" | ").append(pm(teacherStat(t, r -> r.eval().bcpdError()), 5, 1))
            .append(" | ").append(pm(teacherStat(t, r -> r.eval().klToPosterior()), 4, 1));
      }
      b.append(" |\n");
    }
    b.append("\nStudents, accuracy in % on the evaluation data:\n\n| student |");
    for (String s : McmiExperiment.SETTINGS) {
      b.append(' ').append(settingLabel(s)).append(" |");
    }
    b.append("\n| :-- |").append(" --: |".repeat(McmiExperiment.SETTINGS.size())).append('\n');
    for (String name : experiment.studentNames()) {
      b.append("| ").append(name).append(" |");
      for (String s : McmiExperiment.SETTINGS) {
        b.append(' ').append(pm(studentStat(s, name, Evaluation::accuracy), 2, 100)).append(" |");
      }
      b.append('\n');
    }
    b.append("\nZero-shot students: accuracy in % on the classes they never saw:\n\n| student |");
    int[] omitted = experiment.protocols().omitClasses();
    for (int c : omitted) {
      b.append(" class ").append(c).append(" |");
    }
    b.append("\n| :-- |").append(" --: |".repeat(omitted.length)).append('\n');
    for (String name : experiment.studentNames()) {
      b.append("| ").append(name).append(" |");
      for (int c : omitted) {
        b.append(' ').append(pm(studentStat("zero-shot", name, e -> e.classAccuracy(c)), 2, 100)).append(" |");
      }
      b.append('\n');
    }
    return b.toString();
  }

  private String settingLabel(String s) {
    return switch (s) {
      case "few-shot" -> "few-shot (" + experiment.protocols().trainFraction() + " of the data)";
      case "zero-shot" -> "zero-shot (without classes " + java.util.Arrays.toString(experiment.protocols().omitClasses()) + ")";
      default -> "full data";
    };
  }

  /** Every number per seed, plus the configuration, as JSON. */
  public String json() {
    Json.Members j = Json.object();
    j.put("train", trainName).put("eval", evalName);
    j.put("seeds", experiment.seeds()).put("firstSeed", experiment.firstSeed());
    j.put(
        "config",
        Json.object()
            .put("teacher", experiment.teacher().architecture().name())
            .put("teacherEpochs", experiment.teacher().config().epochs())
            .put("lambda", experiment.teacher().fineTune().lambda())
            .put("centroids", experiment.teacher().fineTune().centroids().cliName())
            .put("finetuneEpochs", experiment.teacher().fineTune().epochs())
            .put("finetuneLr", experiment.teacher().fineTune().optimizer().learningRate())
            .put("student", experiment.student().architecture().name())
            .put("studentEpochs", experiment.student().config().epochs())
            .put("distillation", experiment.student().distillation().describe())
            .put("trainFraction", experiment.protocols().trainFraction())
            .put("fewShotEpochs", experiment.protocols().fewShotEpochs())
            .put("omitClasses", experiment.protocols().omitClasses()));
    if (bayes != null) {
      j.put("bayes", evaluation(bayes));
    }
    List<Json.Members> t = new ArrayList<>();
    for (TeacherRow r : teachers) {
      t.add(Json.object().put("name", r.name()).put("seed", r.seed()).put("trainCmi", r.trainCmi()).put("eval", evaluation(r.eval())));
    }
    j.put("teachers", t);
    List<Json.Members> s = new ArrayList<>();
    for (StudentRow r : students) {
      s.add(Json.object().put("setting", r.setting()).put("name", r.name()).put("seed", r.seed()).put("eval", evaluation(r.eval())));
    }
    j.put("students", s);
    return j.toString();
  }

  private static Json.Members evaluation(Evaluation e) {
    return Json.object()
        .put("examples", e.examples())
        .put("accuracy", e.accuracy())
        .put("nll", e.nll())
        .put("ece", e.ece())
        .put("cmi", e.cmi())
        .put("klToPosterior", e.klToPosterior())
        .put("bcpdError", e.bcpdError())
        .put("perClassAccuracy", e.perClassAccuracy());
  }

  /** Writes {@code results.md} and {@code results.json} into {@code dir} (created if needed), each atomically. */
  public void writeTo(java.nio.file.Path dir) throws java.io.IOException {
    java.nio.file.Files.createDirectories(dir);
    dev.tfkd.io.AtomicFiles.writeString(dir.resolve("results.md"), markdown());
    dev.tfkd.io.AtomicFiles.writeString(dir.resolve("results.json"), json() + "\n");
  }
}
