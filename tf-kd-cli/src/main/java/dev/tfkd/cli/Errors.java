package dev.tfkd.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Turns exceptions into the exit codes and one-line messages the command line promises: 2 for bad usage or bad
 * input ({@link IllegalArgumentException}, unreadable files), 1 for failures at run time. The stack trace is shown
 * only with the global {@code --debug} option (or {@code TFKD_DEBUG=1} in the environment).
 */
final class Errors implements CommandLine.IExecutionExceptionHandler {
  private final boolean debug;

  Errors(boolean debug) {
    this.debug = debug || "1".equals(System.getenv("TFKD_DEBUG"));
  }

  static final int OK = 0;
  static final int FAILED = 1;
  static final int BAD_INPUT = 2;

  @Override
  public int handleExecutionException(
      Exception ex, CommandLine cl, CommandLine.ParseResult parseResult) {
    PrintWriter err = cl.getErr();
    boolean badInput = ex instanceof IllegalArgumentException || ex instanceof java.nio.file.NoSuchFileException;
    // Core messages name configuration fields; the command line names its flags.
    String message =
        ex instanceof dev.tfkd.config.ConfigException ce
            ? ce.render(RunOptions::flag)
            : ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    err.println("tfkd " + cl.getCommandName() + ": " + (badInput ? "" : "failed: ") + message.lines().findFirst().orElse(""));
    if (debug) {
      ex.printStackTrace(err);
    }
    err.flush();
    return badInput ? BAD_INPUT : FAILED;
  }

  static int onParameterError(CommandLine.ParameterException ex, String[] args) {
    CommandLine cl = ex.getCommandLine();
    PrintWriter err = cl.getErr();
    err.println("tfkd " + cl.getCommandName() + ": " + ex.getMessage());
    err.println("Try 'tfkd " + cl.getCommandName() + " --help' for usage.");
    err.flush();
    return BAD_INPUT;
  }
}
