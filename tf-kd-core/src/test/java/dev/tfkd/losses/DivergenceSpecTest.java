package dev.tfkd.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.training.Distillation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A divergence's {@link Divergence#spec()} is what {@link Divergences#parse} reads, and the spec examples that core
 * documents (registry descriptions, the syntax line, the run configuration's proto comment) parse. The CLI's help
 * and the README are checked by the CLI's {@code DivergenceSpecExamplesTest}.
 */
public class DivergenceSpecTest {

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.tfkd.losses.DivergencesTest#specs")
  void specParsesBackToAnEqualDivergence(String spec) {
    Divergence d = Divergences.parse(spec);
    assertEquals(d, Divergences.parse(d.spec()), spec + " -> " + d.spec());
    // Written with every parameter: the spec of the spec is itself.
    assertEquals(d.spec(), Divergences.parse(d.spec()).spec());
  }

  @ParameterizedTest
  @ValueSource(strings = {"kl(T=0.3)", "js(beta=0.123456789, T=0.0123457)", "sinkhorn(iters=7)", "alpha-beta(a=-0.3, b=1e-7)",
      "cswt(Tmin=1.5, Tmax=8.25):dkd(beta=4.25, warmup=3)", "mse-logits"})
  void oddValuesSurviveTheRoundTrip(String spec) {
    Divergence d = Divergences.parse(spec);
    assertEquals(d, Divergences.parse(d.spec()), spec + " -> " + d.spec());
  }

  @Test
  void specsWriteEveryParameterInTheRegistryForm() {
    assertEquals("kl(T=4)", new Kl(4f).spec());
    assertEquals("dkd(alpha=1, beta=8, T=4, warmup=20)", Divergences.parse("dkd").spec());
    assertEquals("skew-reverse-kl(a=0.2, T=1)", Divergences.parse("skew-reverse-kl(a=0.2)").spec());
    assertEquals("cswt(Tmin=2, Tmax=6):kl(T=4)", Divergences.parse("cswt:kl").spec());
    assertEquals("mse-logits", new MseLogits().spec());
  }

  @Test
  void everyRegistryDescriptionEndsWithTheDefaultSpec() {
    for (Divergences.Entry e : Divergences.entries()) {
      String spec = Divergences.parse(e.name()).spec();
      String description = e.description().replace(" (no parameters)", "");
      assertTrue(description.endsWith(" " + spec), e.name() + ": description ends otherwise than " + spec + ": " + e.description());
    }
  }

  @Test
  void distillationDescribesItselfInTheDocumentedSpecForm() {
    Distillation kd = new Distillation(0.1f, 0.9f, new Kl(4f));
    assertEquals("0.1*ce + 0.9*kl(T=4)", kd.describe());
    Distillation cswt = new Distillation(0f, 1f, Divergences.parse("cswt(Tmax=8):dkd(beta=4)"));
    String described = cswt.describe();
    assertEquals("0*ce + 1*cswt(Tmin=2, Tmax=8):dkd(alpha=1, beta=4, T=4, warmup=20)", described);
    String divergencePart = described.substring(described.indexOf("1*") + 2);
    assertEquals(cswt.divergence(), Divergences.parse(divergencePart));
  }

  @Test
  void syntaxLineExamplesParse() {
    String syntax = Divergences.SPEC_SYNTAX;
    List<String> examples = splitTopLevel(syntax.substring(syntax.indexOf("e.g.") + 4));
    assertTrue(examples.size() >= 4, "examples found: " + examples);
    for (String e : examples) {
      assertEquals(Divergences.parse(e), Divergences.parse(Divergences.parse(e).spec()), e);
    }
    // The cswt line's own example form.
    Divergences.parse(Divergences.CSWT_DESCRIPTION.substring(0, Divergences.CSWT_DESCRIPTION.indexOf("SPEC")) + "kl");
  }

  @Test
  void theRunConfigurationProtoCommentGivesParsableSpecs() throws IOException {
    String proto = Files.readString(Path.of("src/main/proto/tfkd/run_config.proto"));
    Matcher m = Pattern.compile("divergence spec[^\\n]*").matcher(proto);
    assertTrue(m.find(), "the proto documents the divergence field");
    Matcher quoted = Pattern.compile("\"([^\"]+)\"").matcher(m.group());
    int n = 0;
    while (quoted.find()) {
      Divergences.parse(quoted.group(1));
      n++;
    }
    assertTrue(n > 0, "no example in: " + m.group());
  }

  /** {@code a, b(x=1, y=2), c} into its top-level, comma-separated parts. */
  public static List<String> splitTopLevel(String s) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    StringBuilder cur = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c == ',' && depth == 0) {
        out.add(cur.toString().strip());
        cur.setLength(0);
        continue;
      }
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      cur.append(c);
    }
    if (!cur.toString().isBlank()) {
      out.add(cur.toString().strip());
    }
    return out;
  }
}
