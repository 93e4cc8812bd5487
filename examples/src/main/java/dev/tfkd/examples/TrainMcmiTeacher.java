package dev.tfkd.examples;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.models.Models;
import dev.tfkd.objectives.TeacherObjectives;
import dev.tfkd.run.ModelScore;
import dev.tfkd.run.RunResult;
import dev.tfkd.run.TeacherTrainer;
import java.nio.file.Path;

/**
 * Trains an MCMI teacher (maximum log-likelihood, then fine-tuning with the conditional mutual information term) on
 * the built-in Gaussian mixture and exports it as {@code teachers/teacher-mcmi/1}; exit 1: it failed.
 */
public final class TrainMcmiTeacher {
  public static void main(String[] args) throws Exception {
    Path work = Path.of(args.length > 0 ? args[0] : ".");
    // MCMI with the paper's fine-tuning phase (SGD, cosine decay, centroids once), cut to 2 epochs to be quick.
    TeacherObjectives.Spec paper = TeacherObjectives.Spec.of(TeacherObjectives.Kind.MCMI);
    TeacherObjectives.Spec mcmi =
        new TeacherObjectives.Spec(paper.kind(), paper.lambda(), paper.smoothing(), paper.fineTune().withEpochs(2));
    RunResult r =
        TeacherTrainer.builder()
            .architecture(Models.create("mlp:64", new long[] {20}, 10)) // the mixture: 20 features, 10 classes
            .objective(mcmi)
            .train(DataSources.load("gmm", null, DataSources.Split.TRAIN))
            .test(DataSources.load("gmm", null, DataSources.Split.TEST))
            .epochs(3) // the MLL phase
            .runDirectory(work.resolve("runs/teacher"))
            .exportTo(work.resolve("teachers")) // teachers/teacher-mcmi/1
            .build()
            .fit();
    ModelScore score = r.trainedScore().orElseThrow();
    System.out.printf(
        "MCMI teacher: accuracy %.4f, NLL %.4f, train CMI %.4f -> %s%n",
        score.accuracy(), score.evaluation().nll(), r.trainCmi().orElse(Double.NaN), r.exportPath());
    // Two phases (MLL, then the fine-tuning), figures that are finite and above chance, and an export.
    boolean ok =
        r.phases().size() == 2
            && r.warnings().isEmpty()
            && Double.isFinite(score.evaluation().nll())
            && r.exportPath() != null;
    if (!ok) {
      System.err.println(
          "teacher training failed: " + r.phases().size() + " phases, " + r.warnings() + ", NLL "
              + score.evaluation().nll());
      System.exit(1);
    }
  }
}
