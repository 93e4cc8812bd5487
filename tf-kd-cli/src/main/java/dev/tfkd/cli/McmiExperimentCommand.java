package dev.tfkd.cli;

import dev.tfkd.data.Dataset;
import dev.tfkd.experiments.McmiExperiment;
import dev.tfkd.features.FeatureLosses;
import dev.tfkd.features.LossSpec;
import dev.tfkd.experiments.McmiResult;
import dev.tfkd.graph.Architecture;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.losses.Divergences;
import dev.tfkd.models.Models;
import dev.tfkd.objectives.CentroidPolicy;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.training.Distillation;
import dev.tfkd.training.Objective;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfkd experiment mcmi}: MLL versus MCMI teachers, students under full, few-shot and zero-shot data. */
@Command(
    name = "mcmi",
    mixinStandardHelpOptions = true,
    description = {
      "For each seed: train an MLL teacher, fine-tune an MCMI teacher from it (Ye et al., ICLR 2024), then train students alone and distilled from each teacher with full training data, with a stratified fraction of it (few-shot) and without some classes (zero-shot; the teachers saw them).",
      "Writes results.md and results.json to --out: teacher accuracy, NLL, ECE, CMI, BCPD error (data with a known posterior), student accuracy per cell and per omitted class, mean ± std over seeds."
    },
    footer = {
      "", "Examples:", "  tfkd experiment mcmi --seeds 3 --out results/mcmi-gmm",
      "  tfkd experiment mcmi --validation-split 0.2 --lambda 0.25 --centroids epoch   (choosing settings)",
      "  tfkd experiment mcmi --method 'dkd(alpha=1,beta=8)' --control --out results/mcmi-dkd",
      "  tfkd experiment mcmi --method pkt --out results/mcmi-pkt   (a feature loss)",
      "  tfkd experiment mcmi-study --help   (the few-shot / zero-shot study, checkpointed per cell)"
    })
final class McmiExperimentCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--data", description = "Training data: built-in name or path (default: ${DEFAULT-VALUE}).", defaultValue = "gmm")
  String data;

  @Option(names = "--test", description = "Test data (default: the built-in test split, or --test-fraction of a file).")
  String test;

  @Option(names = "--test-fraction", description = "Held-out fraction of a data file without --test (default: ${DEFAULT-VALUE}).", defaultValue = "0.2")
  double testFraction;

  @Option(names = "--validation-split", description = "Evaluate on this stratified fraction of the training data instead of the test data (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  double validationSplit;

  @Option(names = "--teacher-model", description = "Teacher architecture (default: ${DEFAULT-VALUE}).", defaultValue = "mlp:256,256")
  String teacherModel;

  @Option(names = "--student-model", description = "Student architecture (default: ${DEFAULT-VALUE}).", defaultValue = "mlp:16")
  String studentModel;

  @Option(names = "--teacher-epochs", description = "MLL teacher epochs, Adam (default: ${DEFAULT-VALUE}).", defaultValue = "10")
  int teacherEpochs;

  @Option(names = "--student-epochs", description = "Student epochs, full and zero-shot data (default: ${DEFAULT-VALUE}).", defaultValue = "30")
  int studentEpochs;

  @Option(names = "--few-shot-epochs", description = "Few-shot student epochs (default: ${DEFAULT-VALUE}).", defaultValue = "200")
  int fewShotEpochs;

  @Option(names = "--batch-size", description = "Batch size (default: ${DEFAULT-VALUE}).", defaultValue = "128")
  int batchSize;

  @Option(names = "--lr", description = "Adam learning rate of MLL teachers and students (default: ${DEFAULT-VALUE}).", defaultValue = "0.001")
  float lr;

  @Option(names = "--lambda", description = "MCMI CMI weight (default: ${DEFAULT-VALUE}).", defaultValue = "0.15")
  float lambda;

  @Option(names = "--centroids", description = "MCMI centroid policy: once (the paper's), epoch, ema (default: ${DEFAULT-VALUE}).", defaultValue = "once")
  String centroids;

  @Option(names = "--finetune-lr", description = "MCMI fine-tuning base learning rate, SGD with cosine decay; the paper's is 0.05 (default: ${DEFAULT-VALUE}).", defaultValue = "0.05")
  float finetuneLr;

  @Option(names = "--finetune-epochs", description = "MCMI fine-tuning epochs, SGD 0.9, lr 0.05 cosine, wd 5e-4 (default: ${DEFAULT-VALUE}).", defaultValue = "20")
  int finetuneEpochs;

  @Option(names = {"--method", "--divergence"}, description = "Distillation method the comparison runs inside: a divergence spec (weighted by --ce-weight and --kd-weight), a feature loss M (run as the loss 'ce:1, M'; the teacher then runs in the student's graph), or a whole loss spec such as 'ce:1, kl(T=4):0.9, at'; see `tfkd divergences` (default: ${DEFAULT-VALUE}).", defaultValue = "kl(T=4)")
  String divergence;

  @Option(names = "--posterior", description = "CSV of the known P(y|x), one row per evaluation example in order, one column per class: adds BCPD error and KL(posterior||teacher).")
  Path posterior;

  @Option(names = "--ce-weight", description = "Students' label-loss weight (default: ${DEFAULT-VALUE}).", defaultValue = "0.1")
  float ceWeight;

  @Option(names = "--kd-weight", description = "Students' distillation weight (default: ${DEFAULT-VALUE}).", defaultValue = "0.9")
  float kdWeight;

  @Option(names = "--train-fraction", description = "Few-shot students' stratified fraction of the data (default: ${DEFAULT-VALUE}).", defaultValue = "0.05")
  double trainFraction;

  @Option(names = "--omit-classes", split = ",", description = "Classes the zero-shot students never see (default: ${DEFAULT-VALUE}).", defaultValue = "3")
  int[] omitClasses;

  @Option(names = "--seeds", description = "Number of seeds (default: ${DEFAULT-VALUE}).", defaultValue = "3")
  int seeds;

  @Option(names = "--seed", description = "First seed (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  long seed;

  @Option(names = "--control", description = "Also fine-tune a lambda=0 control teacher (same schedule, no CMI term).")
  boolean control;

  @Option(names = "--threads", description = "TensorFlow intra-op threads, 0 to 256; 0 = all cores (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  int threads;

  @Option(names = "--out", description = "Where results.md and results.json go (default: ${DEFAULT-VALUE}).", defaultValue = "results/mcmi")
  Path out;

  /**
   * The students' objective for {@code --method}: a feature loss {@code M} (see 'tfkd divergences') is the loss
   * {@code ce:1, M} at its default weight, as RepDistiller trains feature methods; a loss spec with several terms
   * ({@code ce:1, kl(T=4):0.9, at}) is taken as written; anything else is a divergence weighted by --ce-weight and
   * --kd-weight.
   */
  static Objective method(String spec, float ceWeight, float kdWeight) {
    String s = spec.strip();
    int paren = s.indexOf('(');
    String name = (paren < 0 ? s : s.substring(0, paren)).strip();
    if (FeatureLosses.entries().stream().anyMatch(e -> e.name().equals(name))) {
      return LossSpec.parse("ce:1, " + s);
    }
    if (s.contains(",") || s.matches(".*:\\s*[0-9.eE+-]+\\s*$")) {
      return LossSpec.parse(s);
    }
    return new Distillation(ceWeight, kdWeight, Divergences.parse(s));
  }

  @Override
  public Integer call() throws IOException {
    PrintWriter o = spec.commandLine().getOut();
    OptimizerConfig adam = OptimizerConfig.adam(lr);
    McmiFineTune ft = McmiFineTune.paper(lambda).withCentroids(CentroidPolicy.parse(centroids)).withEpochs(finetuneEpochs).withLearningRate(finetuneLr);
    Objective kd = method(divergence, ceWeight, kdWeight);
    McmiExperiment.Protocols protocols = new McmiExperiment.Protocols(trainFraction, fewShotEpochs, omitClasses);
    Dataset[] sets = DataOptions.load(data, test, validationSplit, testFraction);
    if (posterior != null) {
      sets[1] = dev.tfkd.data.io.PosteriorCsv.attach(posterior, sets[1]);
    }
    TrainConfig teacherConfig = new TrainConfig(teacherEpochs, batchSize, adam, seed, threads);
    TrainConfig studentConfig = new TrainConfig(studentEpochs, batchSize, adam, seed, threads);
    Architecture teacherArch = Models.forTraining(teacherModel, sets[0].exampleShape(), sets[0].numClasses(), teacherConfig);
    Architecture studentArch = Models.forTraining(studentModel, sets[0].exampleShape(), sets[0].numClasses(), studentConfig);
    McmiExperiment experiment =
        new McmiExperiment(
            new McmiExperiment.TeacherPlan(teacherArch, teacherConfig, ft),
            new McmiExperiment.StudentPlan(studentArch, studentConfig, kd),
            protocols, seeds, seed, control);
    o.printf(
        "MCMI experiment: train %s (%d), evaluate on %s (%d); teacher %s, student %s, %s%n",
        sets[0].name(), sets[0].size(), sets[1].name(), sets[1].size(), teacherArch.name(), studentArch.name(),
        kd.describe());
    McmiResult result = experiment.run(sets[0], sets[1], o);
    result.writeTo(out);
    o.println();
    o.print(result.markdown());
    o.println();
    o.println("wrote " + out.resolve("results.md") + " and " + out.resolve("results.json"));
    return Errors.OK;
  }
}
