package dev.tfkd.cli;

import org.tensorflow.TensorFlow;
import picocli.CommandLine;

/** {@code tfkd --version}: tf-kd, TensorFlow and Java versions. */
final class Versions implements CommandLine.IVersionProvider {
  static String tfkd() {
    String v = Tfkd.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "tf-kd " + tfkd(), "TensorFlow " + TensorFlow.version(), "Java " + System.getProperty("java.version")
    };
  }
}
