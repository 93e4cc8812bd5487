package dev.tfkd.cli;

import dev.tfkd.config.RunConfig;
import dev.tfkd.config.TeacherConfig;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.graph.Architecture;
import dev.tfkd.io.AtomicFiles;
import dev.tfkd.io.Json;
import dev.tfkd.metrics.EmpiricalCmi;
import dev.tfkd.metrics.Evaluation;
import dev.tfkd.models.Models;
import dev.tfkd.objectives.CentroidPolicy;
import dev.tfkd.objectives.McmiFineTune;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.training.TrainConfig;
import dev.tfkd.training.TrainedModel;
import dev.tfkd.training.Trainer;
import dev.tfkd.training.TrainingListener;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
    TrainingRun tr = TrainingRun.resolve(run, "train-teacher", this::apply, own);
    RunConfig c = tr.config();
    TeacherConfig t = c.getTeacher();
    // Everything that can be wrong with the input is checked before the run directory is created.
    TeacherObjectives.Kind kind = TeacherObjectives.Kind.parse(t.getObjective());
    McmiFineTune ft =
        McmiFineTune.paper(t.getLambda())
            .withCentroids(CentroidPolicy.parse(t.getCentroids()))
            .withEpochs(t.getFinetuneEpochs())
            .withLearningRate(t.getFinetuneLearningRate());
    TeacherObjectives.Spec teacherSpec = new TeacherObjectives.Spec(kind, t.getLambda(), t.getSmoothing(), ft);
    TrainingRun.Data data = tr.loadData();
    Architecture arch = Models.create(c.getModel(), data.train().exampleShape(), data.train().numClasses());
    String exportName = t.getExportName().isEmpty() ? "teacher-" + kind.cliName() : t.getExportName();
    TrainConfig tc = tr.trainConfig();
    tr.start();
    PrintWriter progress = run.json ? err : out;
    if (!run.json) {
      out.printf(
          "training teacher %s on %s (%d examples, %d classes): %s%n",
          arch.name(), data.train().name(), data.train().size(), arch.numClasses(), teacherSpec.describe());
    }
    boolean mcmi = kind == TeacherObjectives.Kind.MCMI;
    TrainedModel first =
        tr.train(
            tr.runDir(), arch, tc.epochs(), data, progress, mcmi ? "mll" : "teacher",
            (listeners, options) ->
                new Trainer(tc, listeners).train(arch, data.train(), teacherSpec.firstPhase(), null, options));
    List<TrainingListener.EpochMetrics> history = new ArrayList<>(first.history());
    int planned = tc.epochs();
    TrainedModel teacher = first;
    String note = null;
    if (mcmi) {
      teacher =
          tr.train(
              tr.runDir().resolve("finetune"), arch, ft.epochs(), data, progress, "mcmi fine-tuning",
              (listeners, options) -> ft.run(first, data.train(), tc, listeners, options));
      // One run of two phases: the fine-tuning epochs are numbered on after the MLL epochs in the report.
      int epochs = history.size();
      long steps = history.isEmpty() ? 0 : history.get(history.size() - 1).globalStep();
      teacher.history().forEach(e -> history.add(e.shifted(epochs, steps)));
      planned += ft.epochs();
      note = "MLL epochs 1-" + epochs + ", MCMI fine-tuning epochs " + (epochs + 1) + "-" + history.size();
    }
    double[] cmi =
        !history.isEmpty() && history.stream().allMatch(e -> e.validation() != null)
            ? history.stream().mapToDouble(e -> e.validation().cmi()).toArray()
            : null;
    return tr.finish(
        teacher, data, exportName, List.of(), out, run.json,
        new TrainingRun.Extras(
            history, planned, cmi,
            (model, export, scored) -> {
              if (scored == null) {
                return;
              }
              float[] trainLogits = model.logits(data.train());
              double trainCmi = EmpiricalCmi.of(trainLogits, data.train().labels(), data.train().numClasses(), 1);
              Evaluation ev = scored.evaluation();
              if (!run.json) {
                out.printf(
                    Locale.ROOT,
                    "%s: accuracy %.4f  NLL %.4f  ECE %.4f  CMI %.4f (train %.4f)%s%n",
                    data.test().name(), ev.accuracy(), ev.nll(), ev.ece(), ev.cmi(), trainCmi,
                    data.test().hasPosterior()
                        ? String.format(
                            Locale.ROOT, "  BCPD error %.5f  KL(posterior||teacher) %.4f", ev.bcpdError(),
                            ev.klToPosterior())
                        : "");
              }
              AtomicFiles.writeString(
                  export.resolve("evaluation.json"),
                  evaluationJson(ev, data.test().name(), trainCmi, teacherSpec.describe(), c.getTraining().getSeed()));
            },
            note));
  }

  /** {@code e} as the JSON written beside the export. */
  static String evaluationJson(Evaluation e, String data, double trainCmi, String objective, long seed) {
    return Json.object()
            .put("data", data)
            .put("objective", objective)
            .put("seed", seed)
            .put("examples", e.examples())
            .put("accuracy", e.accuracy())
            .put("nll", e.nll())
            .put("ece", e.ece())
            .put("cmi", e.cmi())
            .put("trainCmi", trainCmi)
            .put("klToPosterior", e.klToPosterior())
            .put("bcpdError", e.bcpdError())
            .put("perClassAccuracy", e.perClassAccuracy())
        + "\n";
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
    if (d.getTest().isBlank() && d.getValidationSplit() == 0) {
      // A teacher is always evaluated: a built-in dataset on its own test split, a file on a held-out part.
      if (DataSources.builtinNames().contains(d.getTrain())) {
        d.setTest(d.getTrain());
      } else {
        d.setValidationSplit(DEFAULT_HELD_OUT);
      }
    }
  }
}
