package dev.tfkd.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfkd.export.GraphSafety.OpClass;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_Buffer;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;

/** {@code ops.tsv} classifies every op the linked TensorFlow registers, and the classes that matter are right. */
class OpClassificationTest {
  @Test
  void everyRegisteredOpIsClassified() throws Exception {
    TensorFlow.version(); // Loads the native library.
    OpList ops;
    try (TF_Buffer b = tensorflow.TF_GetAllOpList()) {
      ops = OpList.parseFrom(b.dataAsByteBuffer());
    }
    assertTrue(ops.getOpCount() > 1500, "TF_GetAllOpList returned " + ops.getOpCount() + " ops");
    List<String> missing = new ArrayList<>();
    for (OpDef op : ops.getOpList()) {
      if (!GraphSafety.OPS.containsKey(op.getName())) {
        missing.add(op.getName());
      }
    }
    assertEquals(List.of(), missing, "ops TensorFlow registers but ops.tsv does not classify");
  }

  @Test
  void classesOfTheOpsThatMatter() {
    Map<String, OpClass> expected =
        Map.ofEntries(
            // Keras inference functions: dropout's random ops, stateless random ops, preprocessing-layer string ops.
            Map.entry("RandomUniform", OpClass.PURE), Map.entry("StatelessRandomUniformV2", OpClass.PURE),
            Map.entry("StatelessRandomGetKeyCounter", OpClass.PURE), Map.entry("StringSplitV2", OpClass.PURE),
            Map.entry("LookupTableFindV2", OpClass.PURE), Map.entry("HashTableV2", OpClass.PURE),
            Map.entry("StatefulPartitionedCall", OpClass.PURE), Map.entry("While", OpClass.PURE),
            Map.entry("ResizeBilinear", OpClass.PURE), Map.entry("ParseExampleV2", OpClass.PURE),
            Map.entry("SaveV2", OpClass.CHECKPOINT), Map.entry("MergeV2Checkpoints", OpClass.CHECKPOINT),
            Map.entry("RestoreV2", OpClass.CHECKPOINT),
            Map.entry("WriteFile", OpClass.UNSAFE), Map.entry("ReadFile", OpClass.UNSAFE),
            Map.entry("MatchingFiles", OpClass.UNSAFE), Map.entry("PrintV2", OpClass.UNSAFE),
            Map.entry("PyFunc", OpClass.UNSAFE), Map.entry("InitializeTableFromTextFileV2", OpClass.UNSAFE),
            Map.entry("DecodeProtoV2", OpClass.UNSAFE), Map.entry("TFRecordDataset", OpClass.UNSAFE),
            Map.entry("WriteScalarSummary", OpClass.UNSAFE), Map.entry("ImmutableConst", OpClass.UNSAFE),
            Map.entry("CollectiveReduceV2", OpClass.UNSAFE), Map.entry("DebugIdentityV2", OpClass.UNSAFE),
            Map.entry("Abort", OpClass.UNSAFE), Map.entry("RpcCall", OpClass.UNSAFE));
    expected.forEach((op, c) -> assertEquals(c, GraphSafety.OPS.get(op).opClass(), op));
  }
}
