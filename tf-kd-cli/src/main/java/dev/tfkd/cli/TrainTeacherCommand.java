package dev.tfkd.cli;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.TeacherConfig;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.models.Models;
import dev.tfkd.run.RunResult;
import dev.tfkd.run.TeacherTrainer;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tfkd train-teacher}: trains a teacher with a chosen objective as a run like {@code distill} (checkpoints
 * every epoch, {@code --resume}, JSON-lines and TensorBoard logs with the CMI per epoch, a report), evaluates it and
 * exports it with {@code evaluation.json} beside the SavedModel.
 *
 * <p>An {@code mcmi} run has two phases, each checkpointed: MLL training in the run directory, then fine-tuning in
 * {@code RUN_DIR/finetune/} (its own {@code checkpoints/}, {@code metrics/} and {@code tensorboard/}). A resumed run
 * takes the first phase's final checkpoint if it had finished and continues whichever phase was interrupted.
 */
@Command(
    name = "train-teacher",
    mixinStandardHelpOptions = true,
    description = {
      "Train a teacher with one of the teacher objectives, evaluate it and export it as a SavedModel.",
      "The evaluation (accuracy, NLL, ECE, empirical CMI, per-class accuracy; BCPD error where the posterior is known) is written as evaluation.json beside saved_model.pb.",
      "Every epoch is checkpointed (continue with --resume RUN_DIR).",
      "Metrics, with the CMI per epoch, go to JSON lines and TensorBoard; the run ends with a report (RUN_DIR/report/index.html).",
      "Without --test or --validation-split, a built-in dataset is scored on its own test split and a data file on a held-out 20%% (as with --validation-split 0.2).",
      "",
      "Objectives:",
      "  mll              cross-entropy (maximum log-likelihood)",
      "  mcmi             MLL for --epochs, then --finetune-epochs of CE - lambda*CMI",
      "                   with SGD momentum 0.9, lr 0.05 cosine, wd 5e-4 (Ye et al.,",
      "                   ICLR 2024); centroids: once (the paper's), epoch, or ema.",
      "                   The fine-tuning phase lives in RUN_DIR/finetune/.",
      "  cmim             CE + lambda * CMI summed over T=1,2,4,8 (batch centroids):",
      "                   hard to distill",
      "  mse              squared error between softmax and one-hot",
      "  label-smoothing  CE with (1-eps)*onehot + eps/K targets (--smoothing)"
    },
    footer = {
      "",
      "Examples:",
      "  tfkd train-teacher --objective mcmi --lambda 0.15 --run-dir runs/mcmi",
      "  tfkd train-teacher --validation-split 0.2 --objective label-smoothing",
      "  tfkd train-teacher --resume runs/mcmi",
      "",
      "Config files are tfkd.RunConfig in protobuf text format (run_config.proto):",
      "  command: \"train-teacher\"  data { train: \"gmm\" test: \"gmm\" }",
      "  model: \"mlp:256,256\"  training { epochs: 10 seed: 1 threads: 1 }",
      "  teacher { objective: \"mcmi\" lambda: 0.15 centroids: \"once\" }",
      "",
      "Exit codes: 0 done, 1 failed while running, 2 bad usage or bad input."
    })
final class TrainTeacherCommand implements Callable<Integer> {
  /** The fraction of a data file held out for evaluation when neither --test nor --validation-split is given. */
  static final float DEFAULT_HELD_OUT = 0.2f;

  @Spec CommandSpec spec;

  @Mixin RunOptions run;

  @Option(names = "--objective", description = "mll, mcmi, cmim, mse or label-smoothing (default: mll).")
  String objective;

  @Option(names = "--lambda", description = "CMI weight of mcmi and cmim (default: 0.15).")
  Float lambda;

  @Option(names = "--centroids", description = "mcmi centroid policy: once, epoch, ema (default: once).")
  String centroids;

  @Option(names = "--finetune-lr", description = "MCMI fine-tuning base learning rate, SGD with cosine decay; the paper's is 0.05 (default: 0.05).")
  Float finetuneLr;

  @Option(names = "--finetune-epochs", description = "mcmi fine-tuning epochs (default: 20).")
  Integer finetuneEpochs;

  @Option(names = "--smoothing", description = "label-smoothing epsilon (default: 0.1).")
  Float smoothing;

  @Option(names = "--name", description = "Model name under the export root (default: teacher-<objective>).")
  String name;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean own =
        objective != null || lambda != null || centroids != null || finetuneLr != null || finetuneEpochs != null
            || smoothing != null || name != null;
    RunConfig c = run.resolveRun("train-teacher", this::apply, own);
    run.startChief(c, err);
    RunResult r =
        TeacherTrainer.fromConfig(c, run.resume != null, Models::create)
            .listener(RunPrinter.progress(RunPrinter.progressOut(out, err, run.json)))
            .onStart(RunPrinter.announce(out, run.json, s -> String.format(
                "training teacher %s on %s (%d examples, %d classes): %s", s.architecture().name(), s.trainName(),
                s.trainSize(), s.architecture().numClasses(), s.objective())))
            .build()
            .fit();
    if (!run.json) {
      RunPrinter.teacherFigures(out, r);
    }
    return RunPrinter.finish(r, c, out, err, run.json);
  }

  private void apply(RunConfig.Builder b) {
    TeacherConfig.Builder t = b.getTeacherBuilder();
    if (objective != null) {
      t.setObjective(objective);
    }
    if (lambda != null) {
      t.setLambda(lambda);
    }
    if (centroids != null) {
      t.setCentroids(centroids);
    }
    if (finetuneLr != null) {
      t.setFinetuneLearningRate(finetuneLr);
    }
    if (finetuneEpochs != null) {
      t.setFinetuneEpochs(finetuneEpochs);
    }
    if (smoothing != null) {
      t.setSmoothing(smoothing);
    }
    if (name != null) {
      t.setExportName(name);
    }
    var d = b.getDataBuilder();
    // Streamed data cannot be split: it is scored on --test only.
    if (d.getTest().isBlank() && d.getValidationSplit() == 0 && !dev.tfkd.run.RunData.streams(d.build())) {
      // A teacher is always evaluated: a built-in dataset on its own test split, a file on a held-out part.
      if (DataSources.builtinNames().contains(d.getTrain())) {
        d.setTest(d.getTrain());
      } else {
        d.setValidationSplit(DEFAULT_HELD_OUT);
      }
    }
  }
}
