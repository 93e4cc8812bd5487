/**
 * The {@code tfkd} command line. It exports nothing: applications use tf-kd-core and tf-kd-models. Run it on the
 * module path with {@code java -p <jars> --add-modules ALL-MODULE-PATH -m dev.tfkd.cli/dev.tfkd.cli.Tfkd}.
 */
module dev.tfkd.cli {
  requires dev.tfkd.core;
  requires dev.tfkd.models;
  requires info.picocli;

  // picocli sets the commands' option fields reflectively.
  opens dev.tfkd.cli to info.picocli;
}
