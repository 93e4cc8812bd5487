package dev.tfkd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * tf-kd-bom has no parent (see its pom), so nothing but this test keeps its versions equal to the build's: the
 * project version, the TensorFlow versions, every library module, and a managed native library for every classifier
 * the build's platform profiles use. The README's Maven section names the BOM at the project version.
 */
class BomTest {
  private static final Path ROOT = Path.of("..");

  @Test
  void bomManagesWhatTheBuildUsesAtTheSameVersions() throws Exception {
    Element parent = read(ROOT.resolve("pom.xml"));
    Element bom = read(ROOT.resolve("tf-kd-bom/pom.xml"));
    String version = text(parent, "version");
    assertEquals(version, text(bom, "version"), "BOM version");
    assertEquals("tf-kd-bom", text(bom, "artifactId"));
    for (String p : List.of("tensorflow.version", "tensorflow.framework.version")) {
      assertEquals(property(parent, p), property(bom, p), p);
    }

    Set<String> managed = new LinkedHashSet<>();
    for (Element d : children(child(child(bom, "dependencyManagement"), "dependencies"), "dependency")) {
      String classifier = text(d, "classifier");
      managed.add(text(d, "groupId") + ":" + text(d, "artifactId") + (classifier.isEmpty() ? "" : ":" + classifier) + ":" + text(d, "version"));
    }
    String tf = property(parent, "tensorflow.version");
    for (Element m : children(child(parent, "modules"), "module")) {
      String module = m.getTextContent().strip();
      // Modules that publish a jar (not the BOM itself, nor tf-kd-examples-it, which only runs examples/).
      if (!text(read(ROOT.resolve(module).resolve("pom.xml")), "packaging").equals("pom")) {
        assertTrue(managed.contains("dev.tfkd:" + module + ":${project.version}"), module + " not in the BOM: " + managed);
      }
    }
    assertTrue(managed.contains("org.tensorflow:tensorflow-core-api:${tensorflow.version}"), managed.toString());
    assertTrue(managed.contains("org.tensorflow:tensorflow-framework:${tensorflow.framework.version}"), managed.toString());
    List<String> classifiers = new ArrayList<>(List.of(property(parent, "tensorflow.native.classifier")));
    for (Element profile : children(child(parent, "profiles"), "profile")) {
      String c = property(profile, "tensorflow.native.classifier");
      if (!c.isEmpty()) {
        classifiers.add(c);
      }
    }
    assertTrue(classifiers.size() >= 5, "the platform profiles: " + classifiers);
    for (String c : classifiers) {
      assertTrue(managed.contains("org.tensorflow:tensorflow-core-native:" + c + ":${tensorflow.version}"), c + " not in the BOM (TF " + tf + ")");
    }
  }

  @Test
  void readmeShowsTheBomImportAtTheProjectVersion() throws Exception {
    String version = text(read(ROOT.resolve("pom.xml")), "version");
    String readme = Files.readString(ROOT.resolve("README.md"));
    String section = readme.substring(readme.indexOf("## As a Maven dependency"));
    for (String s : List.of("<artifactId>tf-kd-bom</artifactId>", "<version>" + version + "</version>", "<scope>import</scope>",
        "<artifactId>tensorflow-core-native</artifactId>", "<classifier>", "`linux-x86_64-gpu`", "`linux-arm64`",
        "`macosx-arm64`", "`windows-x86_64`")) {
      assertTrue(section.contains(s), "README's Maven section lacks " + s);
    }
  }

  private static Element read(Path pom) throws Exception {
    Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
    return d.getDocumentElement();
  }

  /** The first direct child named {@code name}, or null. */
  private static Element child(Element e, String name) {
    if (e == null) {
      return null;
    }
    for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element c && c.getTagName().equals(name)) {
        return c;
      }
    }
    return null;
  }

  private static List<Element> children(Element e, String name) {
    List<Element> out = new ArrayList<>();
    if (e != null) {
      NodeList all = e.getChildNodes();
      for (int i = 0; i < all.getLength(); i++) {
        if (all.item(i) instanceof Element c && c.getTagName().equals(name)) {
          out.add(c);
        }
      }
    }
    return out;
  }

  private static String text(Element e, String name) {
    Element c = child(e, name);
    return c == null ? "" : c.getTextContent().strip();
  }

  private static String property(Element project, String name) {
    return text(child(project, "properties"), name);
  }
}
