package dev.tfkd.cli;

import dev.tfkd.config.RunConfig;
import dev.tfkd.models.Models;
import dev.tfkd.run.Distiller;
import dev.tfkd.run.RunResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code tfkd distill}: trains a student from a frozen teacher SavedModel with
 * {@code ce_weight * CE + kd_weight * divergence(student, teacher)}, with checkpoints every epoch, resume, logs,
 * a report, and the student exported as a SavedModel.
 */
@Command(
    name = "distill",
    mixinStandardHelpOptions = true,
    description = {
      "Train a student model from a frozen teacher SavedModel: ce-weight * cross-entropy + kd-weight * divergence.",
      "The teacher's logits for the training data are computed once, in the teacher's own session.",
      "Every epoch is checkpointed (continue with --resume RUN_DIR). Metrics go to JSON lines and TensorBoard.",
      "The run ends with a report (RUN_DIR/report/index.html) and the student exported for TensorFlow Serving."
    },
    footer = {
      "",
      "Examples:",
      "  tfkd distill --teacher savedmodels/demo/teacher/1 --train gmm --test gmm --model mlp:16 --epochs 20",
      "  tfkd distill --config run.pbtxt --divergence 'kl(T=2)' --run-dir runs/kl-t2",
      "  tfkd distill --resume runs/kl-t2",
      "",
      "Config files are tfkd.RunConfig in protobuf text format (see run_config.proto), for example:",
      "  data { train: \"gmm\" test: \"gmm\" }  model: \"mlp:16\"",
      "  training { epochs: 20 batch_size: 128 learning_rate: 0.001 seed: 1 threads: 1 }",
      "  distillation { teacher: \"savedmodels/demo/teacher/1\" divergence: \"kl(T=4)\" ce_weight: 0.1 kd_weight: 0.9 }",
      "",
      "Exit codes: 0 done, 1 failed while running, 2 bad usage or bad input."
    })
final class DistillCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin RunOptions run;

  @Option(names = "--teacher", paramLabel = "DIR", description = "The teacher's SavedModel directory (a version, or a model directory: its latest version).")
  Path teacher;

  @Option(names = "--teacher-signature", paramLabel = "KEY", description = "The teacher's signature (default: serving_default).")
  String teacherSignature;

  @Option(names = "--teacher-input", paramLabel = "NAME", description = "The teacher signature's input fed with the data (default: its only input).")
  String teacherInput;

  @Option(names = "--teacher-output", paramLabel = "NAME", description = "The teacher signature's output (default: logits, else probabilities, else its only output).")
  String teacherOutput;

  @Option(names = "--teacher-output-kind", paramLabel = "KIND", description = "What the teacher's output holds: LOGITS, PROBABILITIES, LOG_PROBABILITIES or AUTO (default: AUTO: the op computing it in the graph, confirmed by the first batch's values).")
  String teacherOutputKind;

  @Option(names = "--teacher-preprocess", paramLabel = "SPEC", description = "Feed the teacher (x * scale - mean) / std: scale=..,mean=..,std=.. (tf-kd reads pixels as [0, 1]; a teacher trained on 0..255 takes scale=255).")
  String teacherPreprocess;

  @Option(names = "--allow-unsafe-ops", description = "Load the teacher even if its graph holds ops outside the allow-list of pure computation (file system, I/O). Loading runs the graph: only for models you trust.")
  Boolean allowUnsafeOps;

  @Option(names = "--divergence", paramLabel = "SPEC", description = "Divergence spec, see 'tfkd divergences' (default: kl).")
  String divergence;

  @Option(names = "--ce-weight", description = "Weight of the label cross-entropy (default: 0.1).")
  Float ceWeight;

  @Option(names = "--kd-weight", description = "Weight of the divergence to the teacher (default: 0.9).")
  Float kdWeight;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean own =
        teacher != null || divergence != null || ceWeight != null || kdWeight != null || teacherSignature != null
            || teacherInput != null || teacherOutput != null || teacherOutputKind != null || allowUnsafeOps != null
            || teacherPreprocess != null;
    RunConfig c = run.resolveRun("distill", this::apply, own);
    RunResult r =
        Distiller.fromConfig(c, run.resume != null, Models::create)
            .listener(RunPrinter.progress(RunPrinter.progressOut(out, err, run.json)))
            .onStart(RunPrinter.announce(out, run.json, s -> String.format(
                "distilling %s from %s on %s (%d examples, %d classes): %s%s", s.architecture().name(),
                c.getDistillation().getTeacher(), s.trainName(), s.trainSize(), s.architecture().numClasses(),
                s.objective(), s.teacherOutput().isEmpty() ? "" : "\nteacher " + s.teacherOutput())))
            .build()
            .fit();
    return RunPrinter.finish(r, c, out, err, run.json);
  }

  private void apply(RunConfig.Builder b) {
    var d = b.getDistillationBuilder();
    if (teacher != null) {
      d.setTeacher(teacher.toString());
    }
    if (divergence != null) {
      d.setDivergence(divergence);
    }
    if (ceWeight != null) {
      d.setCeWeight(ceWeight);
    }
    if (kdWeight != null) {
      d.setKdWeight(kdWeight);
    }
    if (teacherSignature != null) {
      d.setTeacherSignature(teacherSignature);
    }
    if (teacherInput != null) {
      d.setTeacherInput(teacherInput);
    }
    if (teacherOutput != null) {
      d.setTeacherOutput(teacherOutput);
    }
    if (teacherOutputKind != null) {
      d.setTeacherOutputKind(teacherOutputKind);
    }
    if (teacherPreprocess != null) {
      d.setTeacherPreprocess(teacherPreprocess);
    }
    if (allowUnsafeOps != null) {
      d.setAllowUnsafeOps(allowUnsafeOps);
    }
  }
}
