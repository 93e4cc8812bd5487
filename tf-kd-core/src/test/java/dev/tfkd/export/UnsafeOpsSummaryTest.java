package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The one-line summary of unsafe findings that warnings print. */
class UnsafeOpsSummaryTest {
  @Test
  void opsInOrderWithTheirFirstNodesAndLongNamesShortened() {
    String longName = "sequential/some_layer/StatefulPartitionedCall/inner_function/deeply/nested/ReadFile_7";
    List<GraphSafety.Finding> findings =
        List.of(
            new GraphSafety.Finding("evil", "WriteFile", ""),
            new GraphSafety.Finding("a", "ReadFile", "__inference_f"),
            new GraphSafety.Finding(longName, "ReadFile", "__inference_f"),
            new GraphSafety.Finding("c", "ReadFile", ""),
            new GraphSafety.Finding("d", "ReadFile", ""));
    String summary = GraphSafety.summarize(findings);
    assertEquals(
        "WriteFile (node 'evil'), ReadFile (nodes 'a', '..." + longName.substring(longName.length() - 45)
            + "' and 2 more)",
        summary);
    assertEquals(48, longName.substring(longName.length() - 45).length() + 3);
    assertEquals("", GraphSafety.summarize(List.of()));
  }
}
