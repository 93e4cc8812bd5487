package dev.tfkd.cli;

import dev.tfkd.data.Dataset;
import dev.tfkd.export.ServingExporter;
import dev.tfkd.graph.Architecture;
import dev.tfkd.graph.InferenceModel;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.metrics.Metrics;
import dev.tfkd.models.Models;
import dev.tfkd.objectives.CentroidPolicy;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.training.OptimizerConfig;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfkd train-teacher}: trains a teacher with a chosen objective, evaluates it and exports it. */
@Command(
    name = "train-teacher",
    mixinStandardHelpOptions = true,
    description = {
      "Train a teacher with one of the teacher objectives, evaluate it (accuracy, NLL, ECE, empirical CMI,",
      "per-class accuracy; BCPD error where the posterior is known) and export it as a SavedModel, with",
      "evaluation.json beside saved_model.pb.",
      "",
      "Objectives:",
      "  mll              cross-entropy (maximum log-likelihood)",
      "  mcmi             MLL for --epochs, then --finetune-epochs of CE - lambda*CMI with SGD momentum 0.9,",
      "                   lr 0.05 cosine, wd 5e-4 (Ye et al., ICLR 2024); centroids: once (the paper's),",
      "                   epoch, or ema",
      "  cmim             CE + lambda * CMI summed over T=1,2,4,8 (batch centroids): hard to distill",
      "  mse              squared error between softmax and one-hot",
      "  label-smoothing  CE with (1-eps)*onehot + eps/K targets (--smoothing)"
    },
    footer = {
      "", "Examples:", "  tfkd train-teacher --objective mcmi --lambda 0.15 --out savedmodels",
      "  tfkd train-teacher --train gmm --validation-split 0.2 --objective label-smoothing"
    })
final class TrainTeacherCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--train", description = "Training data: built-in name or path (default: ${DEFAULT-VALUE}).", defaultValue = "gmm")
  String train;

  @Option(names = "--test", description = "Test data (default: the built-in test split, or --test-fraction of a file).")
  String test;

  @Option(names = "--validation-split", description = "Evaluate on this stratified fraction of the training data instead of the test data (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  double validationSplit;

  @Option(names = "--test-fraction", description = "Held-out fraction of a training file without --test (default: ${DEFAULT-VALUE}).", defaultValue = "0.2")
  double testFraction;

  @Option(names = "--model", description = "Architecture spec (default: ${DEFAULT-VALUE}).", defaultValue = "mlp:256,256")
  String model;

  @Option(names = "--objective", description = "mll, mcmi, cmim, mse or label-smoothing (default: ${DEFAULT-VALUE}).", defaultValue = "mll")
  String objective;

  @Option(names = "--lambda", description = "CMI weight of mcmi and cmim (default: ${DEFAULT-VALUE}).", defaultValue = "0.15")
  float lambda;

  @Option(names = "--centroids", description = "mcmi centroid policy: once, epoch, ema (default: ${DEFAULT-VALUE}).", defaultValue = "once")
  String centroids;

  @Option(names = "--finetune-lr", description = "MCMI fine-tuning base learning rate, SGD with cosine decay; the paper's is 0.05 (default: ${DEFAULT-VALUE}).", defaultValue = "0.05")
  float finetuneLr;

  @Option(names = "--finetune-epochs", description = "mcmi fine-tuning epochs (default: ${DEFAULT-VALUE}).", defaultValue = "20")
  int finetuneEpochs;

  @Option(names = "--smoothing", description = "label-smoothing epsilon (default: ${DEFAULT-VALUE}).", defaultValue = "0.1")
  float smoothing;

  @Option(names = "--epochs", description = "Epochs (for mcmi: of the MLL phase) (default: ${DEFAULT-VALUE}).", defaultValue = "10")
  int epochs;

  @Option(names = "--batch-size", description = "Batch size (default: ${DEFAULT-VALUE}).", defaultValue = "128")
  int batchSize;

  @Option(names = "--lr", description = "Adam learning rate of the first phase (default: ${DEFAULT-VALUE}).", defaultValue = "0.001")
  float lr;

  @Option(names = "--seed", description = "Seed (default: ${DEFAULT-VALUE}).", defaultValue = "1")
  long seed;

  @Option(names = "--threads", description = "TensorFlow intra-op threads, 0 = all cores (default: ${DEFAULT-VALUE}).", defaultValue = "0")
  int threads;

  @Option(names = "--out", description = "Export root (default: ${DEFAULT-VALUE}).", defaultValue = "savedmodels")
  Path out;

  @Option(names = "--name", description = "Model name under the export root (default: teacher-<objective>).")
  String name;

  @Override
  public Integer call() throws IOException {
    PrintWriter o = spec.commandLine().getOut();
    TeacherObjectives.Kind kind = TeacherObjectives.Kind.parse(objective);
    McmiFineTune ft = McmiFineTune.paper(lambda).withCentroids(CentroidPolicy.parse(centroids)).withEpochs(finetuneEpochs).withLearningRate(finetuneLr);
    TeacherObjectives.Spec teacherSpec = new TeacherObjectives.Spec(kind, lambda, smoothing, ft);
    TrainConfig cfg = new TrainConfig(epochs, batchSize, OptimizerConfig.adam(lr), seed, threads);
    Dataset[] data = DataOptions.load(train, test, validationSplit, testFraction);
    Architecture arch = Models.create(model, data[0].exampleShape(), data[0].numClasses());
    o.printf("training teacher %s on %s (%d examples): %s%n", arch.name(), data[0].name(), data[0].size(), teacherSpec.describe());
    Path work = Files.createTempDirectory("tfkd-teacher-");
    try {
      TeacherObjectives.Result r =
          TeacherObjectives.train(arch, data[0], teacherSpec, cfg, List.of(new EpochPrinter(o, epochs)), work);
      try (InferenceModel m = r.teacher().load(Trainer.sessionConfig(threads))) {
        float[] trainLogits = m.logits(data[0]);
        double trainCmi = EmpiricalCmi.of(trainLogits, data[0].labels(), data[0].numClasses(), 1);
        Evaluation ev = Metrics.evaluate(m.logits(data[1]), data[1]);
        String evalJson = EvaluationJson.of(ev, data[1].name(), trainCmi, teacherSpec.describe(), seed);
        o.printf(
            Locale.ROOT,
            "%s: accuracy %.4f  NLL %.4f  ECE %.4f  CMI %.4f (train %.4f)%s%n",
            data[1].name(), ev.accuracy(), ev.nll(), ev.ece(), ev.cmi(), trainCmi,
            data[1].hasPosterior() ? String.format(Locale.ROOT, "  BCPD error %.5f  KL(posterior||teacher) %.4f", ev.bcpdError(), ev.klToPosterior()) : "");
        Path dir = ServingExporter.exportNextVersion(m, out, name == null ? "teacher-" + kind.cliName() : name);
        Path tmp = dir.resolve(".evaluation.json.tmp");
        Files.writeString(tmp, evalJson, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve("evaluation.json"), StandardCopyOption.ATOMIC_MOVE);
        o.println("exported " + dir);
      }
      return Errors.OK;
    } finally {
      Workspace.deleteQuietly(work);
    }
  }
}
