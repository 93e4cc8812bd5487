package dev.tfkd.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * picocli wraps each description element to the terminal on its own: a sentence broken by hand across elements is
 * re-wrapped mid-sentence. Prose is one element per paragraph (ending a sentence); indented table rows fit in 79
 * columns so that they are never wrapped.
 */
class HelpTextTest {
  @Test
  void descriptionsHaveNoHardLineBreaks() {
    List<String> problems = new ArrayList<>();
    check(new CommandLine(new Tfkd()), problems);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  private static void check(CommandLine cl, List<String> problems) {
    String name = cl.getCommandSpec().qualifiedName();
    for (String line : cl.getCommandSpec().usageMessage().description()) {
      String text = line.replace("%%", "%").replaceAll("%n$", "");
      if (text.isEmpty()) {
        continue;
      }
      if (text.startsWith(" ")) {
        if (text.length() > 79) {
          problems.add(name + ": table row longer than 79 columns: " + text);
        }
      } else if (!text.matches("(?s).*[.:!?)]$")) {
        problems.add(name + ": description line ends mid-sentence: " + text);
      }
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      check(sub, problems);
    }
  }
}
