package dev.tfkd.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code tfkd experiment}: groups the experiments; {@code tfkd experiment mcmi}, {@code tfkd experiment mcmi-study}. */
@Command(
    name = "experiment",
    mixinStandardHelpOptions = true,
    description = "Run an experiment and write its results table (Markdown and JSON).",
    subcommands = {McmiExperimentCommand.class, McmiStudyCommand.class})
final class ExperimentCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
