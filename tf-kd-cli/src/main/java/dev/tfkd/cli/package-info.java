/**
 * The {@code tfkd} command line: one picocli class per subcommand ({@link dev.tfkd.cli.Tfkd} is the entry point and
 * {@link dev.tfkd.cli.Tfkd#run} the testable one, returning the exit code: 0 done, 1 failed, 2 bad input). A command
 * parses its options into the typed configurations of tf-kd-core and tf-kd-models, calls their API ({@code
 * dev.tfkd.run}, {@code dev.tfkd.export}, ...) and prints what it returns; the training and export logic lives in
 * those modules, not here. Nothing in this package is API for applications.
 */
package dev.tfkd.cli;
