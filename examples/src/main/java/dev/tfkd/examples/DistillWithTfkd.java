package dev.tfkd.examples;

import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.models.Models;
import dev.tfkd.run.Distiller;
import dev.tfkd.run.ModelScore;
import dev.tfkd.run.RunResult;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.teacher.Teacher;
import java.nio.file.Path;

/** Distils a small MLP from a SavedModel teacher on the built-in Gaussian mixture and exports it; exit 1: it failed. */
public final class DistillWithTfkd {
  public static void main(String[] args) throws Exception {
    // A teacher SavedModel (a version directory, or a model directory: its latest version), and a working folder.
    Path teacherDir = Path.of(args.length > 0 ? args[0] : "teachers/teacher-mcmi");
    Path work = Path.of(args.length > 1 ? args[1] : ".");
    // The built-in Gaussian mixture; DataSources.load also reads IDX, CIFAR, CSV, TFRecord and image folders.
    Dataset train = DataSources.load("gmm", null, DataSources.Split.TRAIN);
    Dataset test = DataSources.load("gmm", null, DataSources.Split.TEST);
    RunResult r;
    try (Teacher teacher = SavedModelTeacher.load(teacherDir)) {
      r =
          Distiller.builder()
              .teacher(teacher)
              .student(Models.create("mlp:16", teacher.inputShape(), teacher.numClasses()))
              .divergence("kl(T=4)")
              .weights(0.1f, 0.9f) // cross-entropy, divergence
              .train(train)
              .test(test)
              .epochs(5)
              .runDirectory(work.resolve("runs/kd")) // checkpoints, logs, results.json, report; resume(true)
              .exportTo(work.resolve("models")) // models/student/N, the next integer version
              .build()
              .fit();
    }
    ModelScore teacherScore = r.score("teacher").orElseThrow();
    ModelScore studentScore = r.score("student").orElseThrow();
    System.out.printf(
        "teacher %.4f, student %.4f -> %s%n", teacherScore.accuracy(), studentScore.accuracy(), r.exportPath());
    // The warnings say when a model learned nothing (test accuracy at or below chance).
    if (!r.warnings().isEmpty() || !Double.isFinite(studentScore.evaluation().nll())) {
      System.err.println("distillation failed: " + r.warnings() + ", student NLL " + studentScore.evaluation().nll());
      System.exit(1);
    }
  }
}
