package example;

/** The README's distillation example ("Java API"), compiled and run by ReadmeApiExampleTest. */
import dev.tfkd.data.Dataset;
import dev.tfkd.data.io.DataSources;
import dev.tfkd.models.Models;
import dev.tfkd.run.Distiller;
import dev.tfkd.run.RunResult;
import dev.tfkd.teacher.SavedModelTeacher;
import dev.tfkd.teacher.Teacher;
import java.nio.file.Path;

public final class DistillWithTfkd {
  public static void main(String[] args) throws Exception {
    // A teacher SavedModel (a version directory, or a model directory: its latest version), and a working folder.
    Path teacherDir = Path.of(args.length > 0 ? args[0] : "savedmodels/demo/teacher");
    Path work = Path.of(args.length > 1 ? args[1] : ".");
    // The built-in Gaussian mixture; DataSources.load also reads IDX, CIFAR, CSV, TFRecord and image folders.
    Dataset train = DataSources.load("gmm", null, DataSources.Split.TRAIN);
    Dataset test = DataSources.load("gmm", null, DataSources.Split.TEST);
    try (Teacher teacher = SavedModelTeacher.load(teacherDir)) {
      RunResult r =
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
      System.out.printf(
          "teacher %.4f, student %.4f -> %s%n",
          r.score("teacher").orElseThrow().accuracy(), r.score("student").orElseThrow().accuracy(), r.exportPath());
    }
  }
}
