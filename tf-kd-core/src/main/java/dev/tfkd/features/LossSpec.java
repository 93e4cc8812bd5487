package dev.tfkd.features;

import dev.tfkd.losses.Divergence;
import dev.tfkd.losses.Divergences;
import dev.tfkd.losses.LossContext;
import dev.tfkd.losses.SoftmaxOps;
import dev.tfkd.training.FeatureInputs;
import dev.tfkd.training.Objective;
import dev.tfkd.training.TeacherCombination;
import dev.tfkd.training.TeacherCombiner;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A student objective written as a weighted sum of terms: {@code ce:1, kl(T=4):0.9, at:1000}. Each term is {@code
 * SPEC} or {@code SPEC:WEIGHT}; the spec is {@code ce} (cross-entropy with the labels), a logit divergence ({@link
 * Divergences#parse}, averaged over the batch, e.g. {@code kl(T=4)} or {@code cswt:dkd}) or a feature loss ({@link
 * FeatureLosses#parse}). A term without a weight gets 1, a feature loss its registry default (at 1000, sp 3000,
 * pkt 30000, fitnet 100, rkd 1, dist 1, ofd 1e-3). Weights are finite and at least 0, and at least one term on the logits
 * ({@code ce} or a divergence) has a weight above 0, so the classifier trains.
 *
 * <p>With several teachers, {@link #withTeachers} combines every term but the cross-entropy over them.
 *
 * <p>The reported hard loss is the cross-entropy (whether or not it is a term), the soft loss the weighted sum of
 * every other term, the total the weighted sum of all. {@code ce:0.1, kl(T=4):0.9} is the objective {@link
 * dev.tfkd.training.Distillation} with weights 0.1 and 0.9 computes.
 *
 * @param terms the terms, in the order written
 */
public record LossSpec(List<Term> terms) implements Objective {
  /** How a loss spec is written, for help texts. */
  public static final String SYNTAX =
      "TERM, TERM, ...  TERM = SPEC or SPEC:WEIGHT; SPEC = ce | a divergence ('tfkd divergences') | a feature loss;"
          + " e.g. 'ce:1, kl(T=4):0.9, at:1000'";

  /**
   * One weighted term: exactly one of cross-entropy, a divergence or a feature loss.
   *
   * @param weight the weight, finite and at least 0
   * @param divergence the logit divergence, or null
   * @param feature the feature loss, or null
   */
  public record Term(float weight, Divergence divergence, FeatureLoss feature) {
    /** Validates the weight and that at most one of divergence and feature is given. */
    public Term {
      if (!(weight >= 0) || Float.isInfinite(weight)) {
        throw new IllegalArgumentException("a term's weight must be finite and >= 0, got " + weight);
      }
      if (divergence != null && feature != null) {
        throw new IllegalArgumentException("a term is a divergence or a feature loss, not both");
      }
    }

    /** Whether the term is the label cross-entropy. */
    public boolean isCrossEntropy() {
      return divergence == null && feature == null;
    }

    /** {@code ce}, the divergence's or the feature loss's full spec. */
    public String spec() {
      return isCrossEntropy() ? "ce" : divergence != null ? divergence.spec() : feature.spec();
    }

    /** {@code SPEC:WEIGHT}. */
    @Override
    public String toString() {
      return spec() + ":" + Divergences.number(weight);
    }
  }

  /** Copies and validates the terms. */
  public LossSpec {
    terms = List.copyOf(terms);
    if (terms.isEmpty()) {
      throw new IllegalArgumentException("a loss needs at least one term");
    }
    if (terms.stream().noneMatch(t -> t.feature() == null && t.weight() > 0)) {
      throw new IllegalArgumentException(
          "a loss needs a term on the logits (ce or a divergence) with a weight above 0, or the classifier does not"
              + " train; got " + describeTerms(terms));
    }
  }

  /**
   * Parses {@code ce:1, kl(T=4):0.9, at:1000}.
   *
   * @param spec the loss spec
   * @return the objective
   * @throws IllegalArgumentException naming the term, for an unknown or malformed term or weight
   */
  public static LossSpec parse(String spec) {
    List<Term> terms = new ArrayList<>();
    for (String part : splitTopLevel(spec)) {
      if (part.isBlank()) {
        throw new IllegalArgumentException("loss '" + spec + "': empty term");
      }
      String s = part.strip();
      Float weight = null;
      int colon = lastTopLevelColon(s);
      if (colon >= 0) {
        String w = s.substring(colon + 1).strip();
        try {
          weight = Float.parseFloat(w);
          s = s.substring(0, colon).strip();
        } catch (NumberFormatException e) {
          // Not a weight: the colon belongs to the spec (cswt:kl).
        }
      }
      terms.add(term(s, weight));
    }
    return new LossSpec(terms);
  }

  /**
   * One term from its spec and weight.
   *
   * @param spec {@code ce}, a divergence or a feature loss spec
   * @param weight the weight, or null for the default (1, or the feature loss's registry default)
   * @return the term
   */
  public static Term term(String spec, Float weight) {
    String s = spec.strip();
    try {
      if (s.equalsIgnoreCase("ce")) {
        return new Term(weight == null ? 1f : weight, null, null);
      }
      if (FeatureLosses.isFeatureLoss(s)) {
        FeatureLoss f = FeatureLosses.parse(s);
        return new Term(weight == null ? FeatureLosses.entry(f.name()).defaultWeight() : weight, null, f);
      }
      return new Term(weight == null ? 1f : weight, Divergences.parse(s), null);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("loss term '" + s + "': " + e.getMessage(), e);
    }
  }

  private static List<String> splitTopLevel(String s) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        out.add(s.substring(start, i));
        start = i + 1;
      }
    }
    out.add(s.substring(start));
    return out;
  }

  private static int lastTopLevelColon(String s) {
    int depth = 0;
    int found = -1;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ':' && depth == 0) {
        found = i;
      }
    }
    return found;
  }

  private static String describeTerms(List<Term> terms) {
    return String.join(", ", terms.stream().map(Term::toString).toList());
  }

  /** {@code ce:1, kl(T=4):0.9, at:1000}: every term with its full spec and weight ({@link #parse} reads it back). */
  @Override
  public String describe() {
    return describeTerms(terms);
  }

  @Override
  public boolean needsTeacher() {
    return terms.stream().anyMatch(t -> !t.isCrossEntropy());
  }

  @Override
  public boolean needsFeatures() {
    return terms.stream().anyMatch(t -> t.feature() != null);
  }

  @Override
  public LossTerms build(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context) {
    if (needsFeatures()) {
      throw new IllegalStateException(describe() + " reads feature points: build it with FeatureInputs");
    }
    return build(tf, logits, teacherLogits, context, null);
  }

  /**
   * This loss with several teachers: each divergence term combined over the teachers as {@code combination} says
   * ({@link TeacherCombination}), each feature term computed against every teacher (each with its own adapters) and
   * combined with the batch's teacher weights ({@link TeacherCombiner#batchWeights}: {@code mean-probs} and {@code
   * mean-loss} 1/M each, {@code weighted} the fixed weights, {@code ca-mkd} the batch mean of each teacher's
   * per-example weights, {@code random} the drawn teacher only). With one teacher it equals this loss.
   *
   * @param combination how the teachers combine
   * @param teachers M, at least 1; a weighted combination has exactly M weights
   * @param seed the run's seed (the random mode's draw)
   * @return the objective, reading {@code M} teachers
   * @throws IllegalArgumentException for a weight count other than M, or {@code mean-probs} with a divergence term
   *     that has no single temperature
   */
  public MultiTeacherLoss withTeachers(TeacherCombination combination, int teachers, long seed) {
    return new MultiTeacherLoss(this, new TeacherCombiner(combination, teachers, seed));
  }

  @Override
  public LossTerms build(
      Ops tf, Operand<TFloat32> logits, Operand<TFloat32> teacherLogits, LossContext context, FeatureInputs features) {
    return build(tf, logits, context, (i, t) -> {
      if (t.divergence() != null) {
        Objects.requireNonNull(teacherLogits, "teacherLogits");
        return SoftmaxOps.mean(tf, t.divergence().perExample(tf, logits, tf.stopGradient(teacherLogits), context));
      }
      Objects.requireNonNull(features, "features");
      return t.feature().loss(tf, features, adapterPrefix(i, t));
    });
  }

  /** The adapter-variable prefix of term {@code i}. */
  static String adapterPrefix(int i, Term t) {
    return "adapter" + i + "_" + t.feature().name() + "_";
  }

  /** The value of term {@code i} (not the cross-entropy) in the graph being built. */
  @FunctionalInterface
  interface TermValue {
    Operand<TFloat32> value(int i, Term t);
  }

  /** The weighted sum of the terms, each not-cross-entropy term's value from {@code values}. */
  LossTerms build(Ops tf, Operand<TFloat32> logits, LossContext context, TermValue values) {
    Operand<TFloat32> hard = SoftmaxOps.mean(tf, SoftmaxOps.crossEntropy(tf, logits, context.oneHot()));
    Operand<TFloat32> total = tf.constant(0f);
    Operand<TFloat32> soft = tf.constant(0f);
    for (int i = 0; i < terms.size(); i++) {
      Term t = terms.get(i);
      Operand<TFloat32> value = t.isCrossEntropy() ? hard : values.value(i, t);
      Operand<TFloat32> weighted = tf.withName("loss_term_" + i).math.mul(tf.constant(t.weight()), value);
      total = tf.math.add(total, weighted);
      if (!t.isCrossEntropy()) {
        soft = tf.math.add(soft, weighted);
      }
    }
    return new LossTerms(total, hard, soft);
  }
}
