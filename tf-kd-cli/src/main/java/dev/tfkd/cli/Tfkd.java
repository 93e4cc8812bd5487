package dev.tfkd.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tfkd} command: one subcommand per task. */
@Command(
    name = "tfkd",
    mixinStandardHelpOptions = true,
    versionProvider = Versions.class,
    description = "Knowledge distillation for TensorFlow: train teachers, distill students, export SavedModels.",
    subcommands = {
      DemoCommand.class,
      DistillCommand.class,
      ModelsCommand.class,
      DataCommand.class,
      DivergencesCommand.class,
      ExportCommand.class,
      InspectCommand.class,
      PredictCommand.class,
      EvaluateCommand.class,
      TrainTeacherCommand.class,
      ExperimentCommand.class,
      BenchCommand.class,
      TaskCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Tfkd implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = "--debug",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Show the stack trace of an error (also TFKD_DEBUG=1).")
  boolean debug;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * Runs the command line and exits the JVM with its exit code (0 done, 1 failed, 2 bad input).
   *
   * @param args the command-line arguments
   */
  public static void main(String[] args) {
    // The library reports through System.Logger (e.g. a cluster worker that is waited for); on the command line
    // each record is one line, as the command's own warnings are, unless the user chose a format.
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "tfkd: %4$s: %5$s%6$s%n");
    }
    System.exit(run(System.out, System.err, args));
  }

  /**
   * Runs {@code tfkd args} and returns the exit code: 0 done, 1 failed at run time, 2 bad usage or bad input.
   * Tests call this directly.
   */
  public static int run(PrintStream out, PrintStream err, String... args) {
    CommandLine cl = new CommandLine(new Tfkd());
    cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    // Known before parsing, so that errors in any subcommand see it.
    boolean debug = java.util.Arrays.asList(args).contains("--debug");
    cl.setExecutionExceptionHandler(new Errors(debug));
    cl.setParameterExceptionHandler(Errors::onParameterError);
    return cl.execute(args);
  }
}
