package dev.tfkd.cli;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.Subsets;
import dev.tfkd.data.io.PosteriorCsv;
import dev.tfkd.experiments.McmiExperiment;
import dev.tfkd.experiments.McmiStudy;
import dev.tfkd.experiments.McmiStudyReport;
import dev.tfkd.graph.Architecture;
import dev.tfkd.losses.Divergences;
import dev.tfkd.models.Models;
import dev.tfkd.objectives.CentroidPolicy;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfkd experiment mcmi-study}: the paper's few-shot / zero-shot protocol, checkpointed per cell. */
@Command(
    name = "mcmi-study",
    mixinStandardHelpOptions = true,
    description = {
      "MLL vs MCMI vs a lambda=0 fine-tuning control (Ye et al., ICLR 2024), checkpointed cell by cell.",
      "1. Validation: lambda, fine-tuning lr and epochs are chosen on a stratified validation split of the training data (students' validation accuracy); validation.md and selection.json are written before any test cell.",
      "2. Test: per seed, teachers mll, mll-ft0, mcmi; students alone and distilled from each on every few-shot fraction and without each omitted class (zero-shot). Paired differences per seed with 95%% t-intervals.",
      "Every cell is a JSON file under OUT/cells: a killed study continues, several processes may share one --out, and --report-only remakes results.md from the files."
    },
    footer = {
      "", "Examples:",
      "  tfkd experiment mcmi-study --data ../shared/datasets/mnist-10k/t10k-images-idx3-ubyte.gz --out docs/results/study/mnist10k",
      "  tfkd experiment mcmi-study --out docs/results/study/mnist10k --report-only",
      "  tfkd experiment mcmi-study --data train.csv --test test.csv --posterior test-posterior.csv --teacher-model mlp:256,256 --out results/study"
    })
final class McmiStudyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--data", description = "Training data: built-in name or path, e.g. an IDX file (default: ${DEFAULT-VALUE}).", defaultValue = "shapes28")
  String data;

  @Option(names = "--test", description = "Test data (default: the built-in test split, or --test-fraction of a file).")
  String test;

  @Option(names = "--test-fraction", description = "Held-out test fraction of a data file without --test (stratified, seed 0; default: ${DEFAULT-VALUE}).", defaultValue = "0.2")
  double testFraction;

  @Option(names = "--train-subset", description = "Use a stratified subset of this many training examples (seed 0); 0 = all (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  int trainSubset;

  @Option(names = "--posterior", description = "CSV of the known P(y|x), one row per test example in order, one column per class: adds BCPD error and KL(posterior||teacher).")
  Path posterior;

  @Option(names = "--teacher-model", description = "Teacher architecture (default: lenet5 for images, mlp:256,256 for feature vectors).")
  String teacherModel;

  @Option(names = "--student-model", description = "Student architecture (default: ${DEFAULT-VALUE}).", defaultValue = "mlp:32")
  String studentModel;

  @Option(names = "--teacher-epochs", description = "MLL teacher epochs, Adam (default: ${DEFAULT-VALUE}).", defaultValue = "20")
  int teacherEpochs;

  @Option(names = "--student-epochs", description = "Student epochs on all the data; few-shot students get as many steps (default: ${DEFAULT-VALUE}).", defaultValue = "20")
  int studentEpochs;

  @Option(names = "--batch-size", description = "Batch size (default: ${DEFAULT-VALUE}).", defaultValue = "128")
  int batchSize;

  @Option(names = "--lr", description = "Adam learning rate of MLL teachers and students (default: ${DEFAULT-VALUE}).", defaultValue = "0.001")
  float lr;

  @Option(names = "--lambda", split = ",", description = "MCMI CMI weights to try on the validation split (default: ${DEFAULT-VALUE}).", defaultValue = "0.05,0.15,0.3")
  List<Double> lambdas;

  @Option(names = "--finetune-lr", split = ",", description = "Fine-tuning learning rates to try, SGD 0.9 with cosine decay (default: ${DEFAULT-VALUE}).", defaultValue = "0.005,0.05")
  List<Double> finetuneLrs;

  @Option(names = "--finetune-epochs", split = ",", description = "Fine-tuning epochs to try (default: ${DEFAULT-VALUE}).", defaultValue = "5,20")
  List<Integer> finetuneEpochs;

  @Option(names = "--centroids", description = "MCMI centroid policy: once (the paper's), epoch, ema (default: ${DEFAULT-VALUE}).", defaultValue = "once")
  String centroids;

  @Option(names = {"--method", "--divergence"}, description = "Distillation method: a divergence spec, see `tfkd divergences` (default: ${DEFAULT-VALUE}).", defaultValue = "kl(T=4)")
  String method;

  @Option(names = "--ce-weight", description = "Students' label-loss weight (default: ${DEFAULT-VALUE}).", defaultValue = "0.1")
  float ceWeight;

  @Option(names = "--kd-weight", description = "Students' distillation weight (default: ${DEFAULT-VALUE}).", defaultValue = "0.9")
  float kdWeight;

  @Option(names = "--fractions", split = ",", description = "Few-shot fractions of the training data, the paper's by default (default: ${DEFAULT-VALUE}).", defaultValue = "0.005,0.01,0.05,0.1,0.25,0.5,0.75")
  List<Double> fractions;

  @Option(names = "--omit-classes", split = ",", description = "Zero-shot: each class left out in turn; 'all' for every class, 'none' for no zero-shot (default: ${DEFAULT-VALUE}).", defaultValue = "all")
  List<String> omitClasses;

  @Option(names = "--seeds", description = "Number of seeds (default: ${DEFAULT-VALUE}).", defaultValue = "3")
  int seeds;

  @Option(names = "--seed", description = "First seed (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  long seed;

  @Option(names = "--select-seeds", description = "Seeds of the validation phase, from --seed (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  int selectSeeds;

  @Option(names = "--validation-split", description = "Validation part of the training data for choosing settings (default: ${DEFAULT-VALUE}).", defaultValue = "0.2")
  double validationSplit;

  @Option(names = "--select-fraction", description = "Few-shot fraction of the validation phase's students (default: ${DEFAULT-VALUE}).", defaultValue = "0.05")
  double selectFraction;

  @Option(names = "--threads", description = "TensorFlow intra-op threads, 0 to 256; 0 = all cores (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  int threads;

  @Option(names = "--out", description = "The study directory: study.json, cells/, validation.md, selection.json, results.md (default: ${DEFAULT-VALUE}).", defaultValue = "results/mcmi-study")
  Path out;

  @Option(names = "--work", description = "Teacher checkpoints, not results (default: OUT/work).")
  Path work;

  @Option(names = "--report-only", description = "Remake results.md from the cell files without training anything.")
  boolean reportOnly;

  @Override
  public Integer call() throws IOException {
    PrintWriter o = spec.commandLine().getOut();
    if (reportOnly) {
      McmiStudyReport report = McmiStudyReport.load(out);
      report.writeTo(out);
      o.print(report.markdown());
      o.println();
      o.println("wrote " + out.resolve("results.md"));
      return Errors.OK;
    }
    OptimizerConfig adam = OptimizerConfig.adam(lr);
    McmiFineTune ft = McmiFineTune.paper(McmiFineTune.DEFAULT_LAMBDA).withCentroids(CentroidPolicy.parse(centroids));
    Distillation kd = new Distillation(ceWeight, kdWeight, Divergences.parse(method));
    Dataset[] sets = DataOptions.load(data, test, 0, testFraction);
    Dataset train = sets[0];
    if (trainSubset > 0 && trainSubset < train.size()) {
      train = Subsets.stratifiedFraction(train, (double) trainSubset / train.size(), 0);
    }
    Dataset testSet = posterior == null ? sets[1] : PosteriorCsv.attach(posterior, sets[1]);
    TrainConfig teacherConfig = new TrainConfig(teacherEpochs, batchSize, adam, seed, threads);
    TrainConfig studentConfig = new TrainConfig(studentEpochs, batchSize, adam, seed, threads);
    String teacherSpec =
        teacherModel != null ? teacherModel : train.exampleShape().length == 3 ? "lenet5" : "mlp:256,256";
    Architecture teacherArch = Models.forTraining(teacherSpec, train.exampleShape(), train.numClasses(), teacherConfig);
    Architecture studentArch = Models.forTraining(studentModel, train.exampleShape(), train.numClasses(), studentConfig);
    McmiStudy study =
        new McmiStudy(
            new McmiExperiment.TeacherPlan(teacherArch, teacherConfig, ft),
            new McmiExperiment.StudentPlan(studentArch, studentConfig, kd),
            new McmiStudy.Grid(lambdas, finetuneLrs, finetuneEpochs), fractions, classes(train.numClasses()), seeds, seed,
            selectSeeds, validationSplit, selectFraction);
    o.printf(
        "MCMI study: train %s (%d), test %s (%d); teacher %s, student %s, %s; cells in %s%n", train.name(), train.size(),
        testSet.name(), testSet.size(), teacherArch.name(), studentArch.name(), kd.describe(), out.resolve("cells"));
    long t0 = System.nanoTime();
    study.run(train, testSet, out, work != null ? work : out.resolve("work"), o);
    o.println();
    o.print(McmiStudyReport.load(out).markdown());
    o.printf("%nwall time of this process: %.0f s%n", (System.nanoTime() - t0) / 1e9);
    return Errors.OK;
  }

  private List<Integer> classes(int k) {
    List<Integer> out = new ArrayList<>();
    if (omitClasses.size() == 1 && omitClasses.get(0).equals("none")) {
      return out;
    }
    if (omitClasses.size() == 1 && omitClasses.get(0).equals("all")) {
      for (int c = 0; c < k; c++) {
        out.add(c);
      }
      return out;
    }
    for (String s : omitClasses) {
      try {
        out.add(Integer.parseInt(s.strip()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--omit-classes: '" + s + "' is not a class index, 'all' or 'none'");
      }
    }
    return out;
  }
}
