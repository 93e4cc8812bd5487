package dev.tfkd.features;

import dev.tfkd.training.FeatureInputs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/** Finding the feature points a method reads in the student's and the teacher's maps. */
final class Points {
  private Points() {}

  /** The point {@code name} of one side, or an error naming the method, the side and the points it has. */
  static Operand<TFloat32> get(String method, String side, Map<String, Operand<TFloat32>> points, String name) {
    Operand<TFloat32> p = points.get(name);
    if (p == null) {
      throw new IllegalArgumentException(
          method + " reads the " + side + "'s feature point " + name + "; it has: " + String.join(", ", new TreeMap<>(points).keySet()));
    }
    return p;
  }

  /** The student's point {@code name}. */
  static Operand<TFloat32> student(String method, FeatureInputs in, String name) {
    return get(method, "student", in.student(), name);
  }

  /** The teacher's point {@code name}. */
  static Operand<TFloat32> teacher(String method, FeatureInputs in, String name) {
    return get(method, "teacher", in.teacher(), name);
  }

  /** The stages ({@code stage1}, {@code stage2}, ...) the student has, in order. */
  static List<String> stages(String method, FeatureInputs in) {
    List<String> out = new ArrayList<>();
    for (int n = 1; in.student().containsKey("stage" + n); n++) {
      out.add("stage" + n);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(method + " reads stage feature points; the student has: " + String.join(", ", in.student().keySet()));
    }
    return out;
  }
}
