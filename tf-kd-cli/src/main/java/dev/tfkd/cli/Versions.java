package dev.tfkd.cli;

import org.tensorflow.TensorFlow;
import picocli.CommandLine;

/** {@code tfkd --version}: tf-kd, TensorFlow and Java versions. */
final class Versions implements CommandLine.IVersionProvider {
  static String tfkd() {
    String v = Tfkd.class.getPackage().getImplementationVersion();
    // On the module path the manifest's Implementation-Version is not read; the module descriptor has the version.
    if (v == null && Tfkd.class.getModule().getDescriptor() != null) {
      v = Tfkd.class.getModule().getDescriptor().rawVersion().orElse(null);
    }
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "tf-kd " + tfkd(), "TensorFlow " + TensorFlow.version(), "Java " + System.getProperty("java.version")
    };
  }
}
