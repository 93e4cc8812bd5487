package dev.tfkd.cli;

import dev.tfkd.features.FeatureLoss;
import dev.tfkd.features.FeatureLosses;
import dev.tfkd.features.LossSpec;
import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.losses.Parameter;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code tfkd divergences}: lists every distillation divergence with its formula, paper, defaults and the bounds of
 * each numeric parameter (values outside them are refused when a spec is parsed), the
 * per-example temperature policy and the spec syntax; given a spec, checks it and prints it with every parameter.
 */
@Command(
    name = "divergences",
    mixinStandardHelpOptions = true,
    description = {
      "List the distillation divergences (formula, paper, defaults) and how to write them; with SPEC, check it and print the divergence it names with every parameter."
    },
    footer = {"", "Examples:", "  tfkd divergences", "  tfkd divergences 'dkd(beta=4, warmup=0)'", "  tfkd divergences cswt:kl"})
final class DivergencesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "SPEC", description = "A divergence spec to check, e.g. 'kl(T=2)'.")
  String check;

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    if (check != null && FeatureLosses.isFeatureLoss(check)) {
      FeatureLoss f = FeatureLosses.parse(check);
      o.println(f.name() + ": " + f.spec() + " (default weight " + Divergences.number(FeatureLosses.entry(f.name()).defaultWeight()) + ")");
      return Errors.OK;
    }
    if (check != null) {
      Divergence d = Divergences.parse(check);
      o.println(d.name() + ": " + d);
      return Errors.OK;
    }
    o.println("Distillation divergences, per example, averaged over the batch. p = softmax(z_t / T) is the teacher's");
    o.println("distribution, q = softmax(z_s / T) the student's, y the label; all computed in log space.");
    o.println();
    int width = Divergences.entries().stream().mapToInt(e -> e.name().length()).max().orElse(0);
    for (Divergences.Entry e : Divergences.entries()) {
      o.printf("  %-" + width + "s  %s%n", e.name(), e.description());
      if (!e.parameters().isEmpty()) {
        o.printf("  %-" + width + "s    bounds: %s%n", "", bounds(e.parameters()));
      }
    }
    o.println();
    o.println("Per-example temperature policy (any divergence with a temperature T):");
    o.println("  " + Divergences.CSWT_DESCRIPTION);
    o.println("    bounds: " + bounds(Divergences.CSWT_PARAMETERS) + "; Tmax >= Tmin");
    o.println();
    o.println("Feature losses, on feature points of student and teacher ('tfkd models --features MODEL'), one value per");
    o.println("batch; written as divergences are, used as terms of --loss with their default weight unless one is given:");
    int fw = FeatureLosses.entries().stream().mapToInt(e -> e.name().length()).max().orElse(0);
    for (FeatureLosses.Entry e : FeatureLosses.entries()) {
      o.printf("  %-" + fw + "s  %s%n", e.name(), e.description());
      if (!e.parameters().isEmpty()) {
        o.printf("  %-" + fw + "s    bounds: %s%n", "", bounds(e.parameters()));
      }
    }
    o.println();
    o.println("Spec syntax: " + Divergences.SPEC_SYNTAX);
    o.println("Loss syntax (--loss): " + LossSpec.SYNTAX);
    o.println();
    o.println("Student loss: ce-weight * CE(y, softmax(z_s)) + kd-weight * mean_i divergence_i (both weights explicit).");
    o.println("Self-distillation without a teacher: PS-KD (Kim et al. 2021), target (1 - a_t) onehot(y) + a_t softmax(own");
    o.println("previous-epoch logits), a_t growing linearly to 0.8; Java API: dev.tfkd.training.ProgressiveSelfDistillation.");
    return Errors.OK;
  }

  private static String bounds(java.util.List<Parameter> parameters) {
    return String.join("; ", parameters.stream().map(Parameter::describe).toList());
  }
}
