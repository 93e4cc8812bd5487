package dev.tfkd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * examples/ is an application as the README describes one; tf-kd-examples-it builds and runs it against this build's
 * artifacts. This test keeps the rest honest: the README quotes DistillWithTfkd verbatim, the examples depend on
 * exactly what the README's Maven section names (the BOM at this build's version, tf-kd-core, tf-kd-models, one
 * native library, no versions of their own), and examples/ stays out of the reactor while tf-kd-examples-it is in it.
 */
class ExamplesProjectTest {
  private static final Path ROOT = Path.of("..");
  private static final Path EXAMPLES = ROOT.resolve("examples");

  @Test
  void readmeQuotesTheDistillationExampleVerbatim() throws Exception {
    String code =
        Files.readString(
            EXAMPLES.resolve("src/main/java/dev/tfkd/examples/DistillWithTfkd.java"), StandardCharsets.UTF_8);
    // The README shows the class from its imports on (the package line is left out).
    String quoted = code.substring(code.indexOf("import "));
    String readme = Files.readString(ROOT.resolve("README.md"), StandardCharsets.UTF_8);
    assertTrue(readme.contains("```java\n" + quoted + "```\n"), "README.md must contain, verbatim:\n" + quoted);
  }

  @Test
  void examplesDependOnWhatTheReadmeNamesAtThisBuildsVersion() throws Exception {
    Element parent = read(ROOT.resolve("pom.xml"));
    Element examples = read(EXAMPLES.resolve("pom.xml"));
    String version = text(child(examples, "properties"), "tfkd.version");
    assertEquals(text(parent, "version"), version, "examples' tfkd.version");

    List<Element> imports = children(child(child(examples, "dependencyManagement"), "dependencies"), "dependency");
    assertEquals(1, imports.size(), "the examples manage their versions with the BOM only");
    Element bom = imports.get(0);
    assertEquals(
        List.of("dev.tfkd", "tf-kd-bom", "${tfkd.version}", "pom", "import"),
        List.of(text(bom, "groupId"), text(bom, "artifactId"), text(bom, "version"), text(bom, "type"),
            text(bom, "scope")));

    List<String> deps = new ArrayList<>();
    for (Element d : children(child(examples, "dependencies"), "dependency")) {
      assertEquals("", text(d, "version"), text(d, "artifactId") + ": its version comes from the BOM");
      assertEquals("", text(d, "scope"), text(d, "artifactId"));
      deps.add(text(d, "groupId") + ":" + text(d, "artifactId") + (text(d, "classifier").isEmpty() ? "" : ":native"));
    }
    assertEquals(
        List.of("dev.tfkd:tf-kd-core", "dev.tfkd:tf-kd-models", "org.tensorflow:tensorflow-core-native:native"), deps);
  }

  @Test
  void examplesAreNotAModuleButTheirTestIsTheLast() throws Exception {
    List<String> modules = new ArrayList<>();
    for (Element m : children(child(read(ROOT.resolve("pom.xml")), "modules"), "module")) {
      modules.add(m.getTextContent().strip());
    }
    assertFalse(modules.contains("examples"), modules.toString());
    assertEquals("tf-kd-examples-it", modules.get(modules.size() - 1), modules.toString());
  }

  private static Element read(Path pom) throws Exception {
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
  }

  private static Element child(Element e, String name) {
    for (Node n = e == null ? null : e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) {
        return c;
      }
    }
    return null;
  }

  private static List<Element> children(Element e, String name) {
    List<Element> out = new ArrayList<>();
    for (Node n = e == null ? null : e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) {
        out.add(c);
      }
    }
    return out;
  }

  private static String text(Element e, String name) {
    Element c = e == null ? null : child(e, name);
    return c == null ? "" : c.getTextContent().strip();
  }
}
