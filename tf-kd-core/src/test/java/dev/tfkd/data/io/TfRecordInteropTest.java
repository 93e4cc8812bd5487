package dev.tfkd.data.io;

import static dev.tfkd.testing.Assertions.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tfkd.data.io.DataSources;
import dev.tfkd.data.Dataset;
import dev.tfkd.testing.Assertions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.data.TensorSliceDataset;
import org.tensorflow.types.TString;

/** TensorFlow's own TFRecord writer (tf.data) produces files this reader accepts: the CRC masking agrees. */
class TfRecordInteropTest {
  @TempDir Path dir;

  @Test
  void readsAFileWrittenByTensorFlow() throws Exception {
    byte[] a = TestFiles.floatExample(new float[] {1, 2, 3}, null, 2).toByteArray();
    byte[] b = TestFiles.floatExample(new float[] {4, 5, 6}, null, 0).toByteArray();
    Path file = dir.resolve("tf-written.tfrecord");
    try (Graph g = new Graph();
        TString records = TString.tensorOfBytes(NdArrays.vectorOfObjects(a, b))) {
      Ops tf = Ops.create(g);
      TensorSliceDataset ds =
          tf.data.tensorSliceDataset(List.of(tf.constantOf(records)), List.of(Shape.scalar()));
      var write = tf.data.datasetToTfRecord(ds, tf.constant(file.toString()), tf.constant(""));
      try (Session s = new Session(g)) {
        s.runner().addTarget(write).run();
      }
    }
    Dataset d = DataSources.load(file.toString(), null, DataSources.Split.TRAIN);
    assertArrayEquals(new int[] {2, 0}, d.labels());
    assertAllClose(d.features(), new float[] {1, 2, 3, 4, 5, 6}, Assertions.EXACT);
    // And the bytes are exactly what this project's writer produces.
    Path ours = TestFiles.tfrecord(dir.resolve("ours.tfrecord"),
        org.tensorflow.proto.Example.parseFrom(a), org.tensorflow.proto.Example.parseFrom(b));
    assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(ours));
  }
}
