package dev.tfkd.cli;

import dev.tfkd.training.SessionSettings;
import picocli.CommandLine.Option;

/**
 * The TensorFlow session options training commands share: {@code --threads}, {@code --inter-op-threads} and
 * {@code --device}. Defaults: one intra-op thread per core, one inter-op thread, TensorFlow's device choice.
 */
final class SessionOptions {
  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "TensorFlow intra-op threads (one kernel's work split N ways), 0 to 256; 0 = TensorFlow's"
          + " default (default: one per core).")
  Integer threads;

  @Option(
      names = "--inter-op-threads",
      paramLabel = "N",
      description = "TensorFlow inter-op threads (independent kernels run at once), 0 to 256; 0 = TensorFlow's"
          + " default (default: ${DEFAULT-VALUE}).",
      defaultValue = "1")
  int interOpThreads;

  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      description = "cpu, gpu or gpu:N (soft placement, memory growth; the GPU build is `mvn -Pgpu`)"
          + " (default: TensorFlow's choice).",
      converter = DeviceConverter.class)
  SessionSettings.Device device;

  SessionSettings settings() {
    int intra =
        threads == null
            ? Math.min(SessionSettings.MAX_THREADS, Runtime.getRuntime().availableProcessors())
            : SessionSettings.checkThreads("--threads", threads);
    SessionSettings.checkThreads("--inter-op-threads", interOpThreads);
    return new SessionSettings(intra, interOpThreads, device == null ? SessionSettings.Device.DEFAULT : device);
  }

  /** Parses {@code --device}; a bad value is a usage error. */
  static final class DeviceConverter implements picocli.CommandLine.ITypeConverter<SessionSettings.Device> {
    @Override
    public SessionSettings.Device convert(String value) {
      try {
        return SessionSettings.Device.parse(value);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
