package dev.tfkd.cli;

import dev.tfkd.config.RunConfig;
import dev.tfkd.models.Models;
import dev.tfkd.run.Distiller;
import dev.tfkd.run.RunResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
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
      "  tfkd distill --teacher models/a/1 --teacher models/b/1 --teacher-combination ca-mkd --train gmm --model mlp:16",
      "  tfkd distill --teacher runs/t/export/teacher-mll --train shapes --model resnet8 --loss 'ce:1, kl(T=4):0.9, at:1000'",
      "",
      "Config files are tfkd.RunConfig in protobuf text format (see run_config.proto), for example:",
      "  data { train: \"gmm\" test: \"gmm\" }  model: \"mlp:16\"",
      "  training { epochs: 20 batch_size: 128 learning_rate: 0.001 seed: 1 threads: 1 }",
      "  distillation { teacher: \"savedmodels/demo/teacher/1\" divergence: \"kl(T=4)\" ce_weight: 0.1 kd_weight: 0.9 }",
      "Several teachers: repeated sections, e.g.",
      "  distillation { teachers { path: \"models/a/1\" weight: 2 } teachers { path: \"models/b/1\" preprocess: \"scale=255\" }",
      "                 teacher_combination: \"weighted\" }",
      "",
      "Exit codes: 0 done, 1 failed while running, 2 bad usage or bad input."
    })
final class DistillCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin RunOptions run;

  @Option(names = "--teacher", paramLabel = "DIR", description = "The teacher's SavedModel directory (a version, or a model directory: its latest version). Repeat for several teachers (see --teacher-combination).")
  List<Path> teacher;

  @Option(names = "--teacher-signature", paramLabel = "KEY", description = "The teacher's signature (default: serving_default). With several teachers: once for all, or once per --teacher, in order.")
  List<String> teacherSignature;

  @Option(names = "--teacher-input", paramLabel = "NAME", description = "The teacher signature's input fed with the data (default: its only input). Once for all teachers, or once per --teacher.")
  List<String> teacherInput;

  @Option(names = "--teacher-output", paramLabel = "NAME", description = "The teacher signature's output (default: logits, else probabilities, else its only output). Once for all teachers, or once per --teacher.")
  List<String> teacherOutput;

  @Option(names = "--teacher-output-kind", paramLabel = "KIND", description = "What the teacher's output holds: LOGITS, PROBABILITIES, LOG_PROBABILITIES, BINARY_PROBABILITY (one sigmoid value per example, read as two classes) or AUTO (default: AUTO: the op computing it in the graph, confirmed by the first batch's values). Once for all teachers, or once per --teacher.")
  List<String> teacherOutputKind;

  @Option(names = "--teacher-preprocess", paramLabel = "SPEC", description = "Feed the teacher (x * scale - mean) / std: scale=..,mean=..,std=.. (tf-kd reads pixels as [0, 1]; a teacher trained on 0..255 takes scale=255). Once for all teachers, or once per --teacher.")
  List<String> teacherPreprocess;

  @Option(names = "--teacher-combination", paramLabel = "MODE", description = "How several teachers combine: mean-probs (mean of their probabilities at the divergence's T), mean-loss (mean of the per-teacher divergences; default), weighted (--teacher-weight), ca-mkd (per-example weights from each teacher's cross-entropy on the label) or random (one teacher per batch, drawn from --seed). The divergence's T^2 applies once in every mode.")
  String teacherCombination;

  @Option(names = "--teacher-weight", paramLabel = "W", description = "The weight of each --teacher, in order, for --teacher-combination weighted (normalised to sum 1).")
  List<Float> teacherWeight;

  @Option(names = "--allow-unsafe-ops", description = "Load the teacher even if its graph holds ops outside the allow-list of pure computation (file system, I/O). Loading runs the graph: only for models you trust.")
  Boolean allowUnsafeOps;

  @Option(names = "--divergence", paramLabel = "SPEC", description = "Divergence spec, see 'tfkd divergences' (default: kl).")
  String divergence;

  @Option(names = "--ce-weight", description = "Weight of the label cross-entropy (default: 0.1).")
  Float ceWeight;

  @Option(names = "--kd-weight", description = "Weight of the divergence to the teacher (default: 0.9).")
  Float kdWeight;

  @Option(names = "--name", description = "Model name under the export root (default: student).")
  String name;
  @Option(names = "--loss", paramLabel = "TERMS", description = "The loss as weighted terms, in place of --divergence, --ce-weight and --kd-weight: SPEC:WEIGHT, ... with SPEC ce, a divergence or a feature loss (see 'tfkd divergences'), e.g. 'ce:1, kl(T=4):0.9, at:1000'. Feature losses read the teacher's feature points: named with --teacher-feature, served by an export's 'features' signature (--export-features), or else from a tf-kd export of a zoo model rebuilt in the student's graph. With several --teacher, every term but ce is combined over them as --teacher-combination says (feature terms: once per teacher, weighted 1/M, by the fixed weights, by the batch mean of the CA-MKD weights, or the drawn teacher alone; each teacher a tf-kd export of a zoo model).")
  String loss;

  @Option(names = "--teacher-model", paramLabel = "MODEL", description = "The teacher's zoo model when feature losses build it into the student's graph (default: the architecture in the export's manifest).")
  String teacherModel;

  @Option(names = "--teacher-feature", paramLabel = "NAME=TENSOR", description = "A feature point of a SavedModel teacher (Keras, TF Serving, any tf-kd export), repeatable: the float tensor TENSOR of its graph (NODE or NODE:INDEX, e.g. pooled=StatefulPartitionedCall:0; a static shape per example) serves as the point NAME that feature losses read (e.g. pooled for pkt and rkd). Fetched with the teacher's logits on every batch.")
  List<String> teacherFeature;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean own =
        teacher != null || divergence != null || ceWeight != null || kdWeight != null || teacherSignature != null
            || teacherInput != null || teacherOutput != null || teacherOutputKind != null || allowUnsafeOps != null
            || teacherPreprocess != null || teacherCombination != null || teacherWeight != null || name != null || loss != null || teacherModel != null || teacherFeature != null;
    if (loss != null && (divergence != null || ceWeight != null || kdWeight != null)) {
      throw new IllegalArgumentException("--loss replaces --divergence, --ce-weight and --kd-weight: give one or the other");
    }
    RunConfig c = run.resolveRun("distill", this::apply, own);
    run.startChief(c, err);
    Distiller.Builder builder = Distiller.fromConfig(c, run.resume != null, Models::create);
    // The teacher is loaded (its graph has run): say now what was let through, whatever happens next.
    ModelOptions.warnUnsafeOps(err, "distill", "teacher", builder.teacherUnsafeOps());
    RunResult r =
        builder
            .listener(RunPrinter.progress(RunPrinter.progressOut(out, err, run.json)))
            .onStart(RunPrinter.announce(out, run.json, s -> String.format(
                "distilling %s from %s on %s (%d examples, %d classes): %s%s", s.architecture().name(),
                teachers(c), s.trainName(), s.trainSize(), s.architecture().numClasses(),
                s.objective(), s.teacherOutput().isEmpty()
                    ? ""
                    : s.teacherOutput().startsWith("teacher ") ? "\n" + s.teacherOutput() : "\nteacher " + s.teacherOutput())))
            .build()
            .fit();
    return RunPrinter.finish(r, c, out, err, run.json);
  }

  /** The teacher, or the several teachers joined with {@code +}, as the configuration names them. */
  private static String teachers(RunConfig c) {
    var d = c.getDistillation();
    return d.getTeachersCount() == 0
        ? d.getTeacher()
        : String.join(" + ", d.getTeachersList().stream().map(t -> t.getPath()).toList());
  }

  private void apply(RunConfig.Builder b) {
    var d = b.getDistillationBuilder();
    if (teacher != null) {
      // The command line's teachers replace the configuration file's.
      d.clearTeacher().clearTeachers();
      if (teacher.size() == 1) {
        d.setTeacher(teacher.get(0).toString());
      } else {
        for (Path p : teacher) {
          d.addTeachersBuilder().setPath(p.toString());
        }
      }
    }
    int n = d.getTeachersCount();
    if (divergence != null) {
      d.setDivergence(divergence);
    }
    if (ceWeight != null) {
      d.setCeWeight(ceWeight);
    }
    if (kdWeight != null) {
      d.setKdWeight(kdWeight);
    }
    // Given once, a teacher flag sets the distillation's field, which every teacher reads; given once per teacher,
    // it sets each teacher's own section.
    perTeacher("--teacher-signature", teacherSignature, n, d::setTeacherSignature, (i, v) -> d.getTeachersBuilder(i).setSignature(v));
    perTeacher("--teacher-input", teacherInput, n, d::setTeacherInput, (i, v) -> d.getTeachersBuilder(i).setInput(v));
    perTeacher("--teacher-output", teacherOutput, n, d::setTeacherOutput, (i, v) -> d.getTeachersBuilder(i).setOutput(v));
    perTeacher(
        "--teacher-output-kind", teacherOutputKind, n, d::setTeacherOutputKind,
        (i, v) -> d.getTeachersBuilder(i).setOutputKind(v));
    perTeacher(
        "--teacher-preprocess", teacherPreprocess, n, d::setTeacherPreprocess,
        (i, v) -> d.getTeachersBuilder(i).setPreprocess(v));
    if (teacherCombination != null) {
      d.setTeacherCombination(teacherCombination);
    }
    if (teacherWeight != null) {
      if (teacherWeight.size() != n) {
        throw new IllegalArgumentException(
            "--teacher-weight: give one weight per --teacher (" + n + " teachers, " + teacherWeight.size() + " weights)");
      }
      for (int i = 0; i < n; i++) {
        d.getTeachersBuilder(i).setWeight(teacherWeight.get(i));
      }
    }
    if (allowUnsafeOps != null) {
      d.setAllowUnsafeOps(allowUnsafeOps);
    }
    if (name != null) {
      b.getOutputBuilder().setExportName(name);
    }
    if (teacherModel != null) {
      d.setTeacherModel(teacherModel);
    }
    if (teacherFeature != null) {
      d.clearTeacherFeature().addAllTeacherFeature(teacherFeature);
    }
    if (loss != null) {
      d.clearTerm();
      for (dev.tfkd.features.LossSpec.Term t : dev.tfkd.features.LossSpec.parse(loss).terms()) {
        d.addTerm(dev.tfkd.config.LossTerm.newBuilder().setSpec(t.spec()).setWeight(t.weight()));
      }
    }
  }

  /** Applies a teacher flag given once (to every teacher) or once per teacher (to each, in order). */
  private static void perTeacher(
      String flag, List<String> values, int teachers, Consumer<String> all, BiConsumer<Integer, String> each) {
    if (values == null) {
      return;
    }
    if (values.size() == 1) {
      all.accept(values.get(0));
    } else if (values.size() == teachers) {
      for (int i = 0; i < teachers; i++) {
        each.accept(i, values.get(i));
      }
    } else {
      throw new IllegalArgumentException(
          flag + ": give it once for every teacher or once per --teacher, in order (" + teachers + " teachers, "
              + values.size() + " values)");
    }
  }
}
