import dev.tfkd.export.GraphSafety;
import dev.tfkd.export.OutputKind;
import dev.tfkd.export.Predictor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/**
 * For every SavedModel version under the given paths: the same random inputs through tf-kd's Java Predictor and
 * through TensorFlow's C API (the capi_predict binary, a separate process without a JVM); prints the largest
 * difference of the logits and fails if it exceeds 1e-5. Run by scripts/capi-check.sh.
 */
public class CApiCompare {
  public static void main(String[] args) throws Exception {
    Path capi = Path.of(args[0]);
    List<Path> versions = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      try (Stream<Path> s = Files.walk(Path.of(args[i]))) {
        s.filter(p -> p.getFileName().toString().equals("saved_model.pb"))
            .map(Path::getParent)
            .filter(p -> p.getFileName().toString().matches("[0-9]+"))
            .sorted()
            .forEach(versions::add);
      }
    }
    if (versions.isEmpty()) {
      System.err.println("capi-check: no SavedModel versions under the given paths");
      System.exit(2);
    }
    int failures = 0;
    Path tmp = Files.createTempDirectory("capi-check");
    for (Path v : versions) {
      int n = 257;
      try (Predictor p = Predictor.load(v, Predictor.Options.DEFAULT.withMaxBatch(n).withOutput("logits", OutputKind.LOGITS))) {
        int d = p.exampleSize();
        int k = p.numClasses();
        Random r = new Random(42);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (r.nextGaussian() * 2);
        }
        float[] java = p.logits(x, n);
        var sig = GraphSafety.metaGraph(v, "serve").getSignatureDefOrThrow("serving_default");
        String in = sig.getInputsMap().values().iterator().next().getName();
        String out = sig.getOutputsOrThrow("logits").getName();
        Path inFile = tmp.resolve("in.bin");
        Path outFile = tmp.resolve("out.bin");
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(x);
        Files.write(inFile, b.array());
        Files.deleteIfExists(outFile);
        Process c =
            new ProcessBuilder(
                    capi.toString(), v.toString(), in, out, Integer.toString(n), Integer.toString(d), Integer.toString(k),
                    inFile.toString(), outFile.toString())
                .inheritIO()
                .start();
        if (c.waitFor() != 0) {
          System.out.println("FAIL " + v + ": the C API could not load or run it (exit " + c.exitValue() + ")");
          failures++;
          continue;
        }
        float[] cOut = new float[n * k];
        ByteBuffer.wrap(Files.readAllBytes(outFile)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(cOut);
        double max = 0;
        for (int i = 0; i < cOut.length; i++) {
          max = Math.max(max, Math.abs(cOut[i] - java[i]));
        }
        boolean ok = max <= 1e-5;
        failures += ok ? 0 : 1;
        System.out.printf(
            Locale.ROOT, "%s %s: %d examples x %d classes, max |C API - Java| logit difference %.3g%n",
            ok ? "OK  " : "FAIL", v, n, k, max);
      }
    }
    System.exit(failures == 0 ? 0 : 1);
  }
}
