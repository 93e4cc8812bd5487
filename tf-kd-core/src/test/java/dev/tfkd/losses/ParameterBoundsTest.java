package dev.tfkd.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Every numeric parameter of every divergence spec has bounds, checked when the spec is parsed. */
class ParameterBoundsTest {

  /** One parameter of one registered divergence. */
  record Case(Divergences.Entry entry, Parameter parameter) {
    @Override
    public String toString() {
      return entry.name() + " " + parameter.key();
    }
  }

  static List<Case> parameters() {
    List<Case> cases = new ArrayList<>();
    for (Divergences.Entry e : Divergences.entries()) {
      for (Parameter p : e.parameters()) {
        cases.add(new Case(e, p));
      }
    }
    return cases;
  }

  @ParameterizedTest
  @MethodSource("parameters")
  void boundsAreCheckedAtParseTimeAndTheEndsAreAsDocumented(Case c) {
    Parameter p = c.parameter();
    String name = c.entry().name();
    // The default, and each bound the range includes, parse.
    Divergences.parse(name + "(" + p.key() + "=" + Parameter.format(p.defaultValue()) + ")");
    if (p.minInclusive()) {
      Divergences.parse(name + "(" + p.key() + "=" + Parameter.format(p.min()) + ")");
    }
    if (p.maxInclusive()) {
      Divergences.parse(name + "(" + p.key() + "=" + Parameter.format(p.max()) + ")");
    }
    double span = p.max() - p.min();
    for (double bad : new double[] {p.max() + Math.max(1, span), p.min() - Math.max(1, span), 1e9, -1e9, Double.NaN}) {
      String spec = name + "(" + p.key() + "=" + bad + ")";
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Divergences.parse(spec), spec);
      assertEquals("divergence '" + spec + "': " + p.key() + " must be " + p.range() + ", got " + bad, e.getMessage());
    }
    if (!p.minInclusive()) {
      assertThrows(IllegalArgumentException.class, () -> Divergences.parse(name + "(" + p.key() + "=" + Parameter.format(p.min()) + ")"));
    }
    if (!p.maxInclusive()) {
      assertThrows(IllegalArgumentException.class, () -> Divergences.parse(name + "(" + p.key() + "=" + Parameter.format(p.max()) + ")"));
    }
    if (p.integer()) {
      assertThrows(IllegalArgumentException.class, () -> Divergences.parse(name + "(" + p.key() + "=" + (p.defaultValue() + 0.5) + ")"));
    }
    // Finite bounds everywhere: nothing is open-ended.
    assertTrue(Double.isFinite(p.min()) && Double.isFinite(p.max()), c.toString());
  }

  @Test
  void sinkhornIterationsAreBoundedBeforeAnyGraphIsBuilt() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Divergences.parse("sinkhorn(iters=1e9)"));
    assertEquals("divergence 'sinkhorn(iters=1e9)': iters must be an integer in [1, 1000], got 1e9", e.getMessage());
    // Beyond int: refused as written, not wrapped or saturated.
    e = assertThrows(IllegalArgumentException.class, () -> Divergences.parse("sinkhorn(iters=1e12)"));
    assertTrue(e.getMessage().endsWith("got 1e12"), e.getMessage());
    assertEquals(1000, ((Sinkhorn) Divergences.parse("sinkhorn(iters=1000)")).iterations());
    // The Java API refuses the same values.
    assertThrows(IllegalArgumentException.class, () -> new Sinkhorn(0.1f, 1001, 1f));
    assertThrows(IllegalArgumentException.class, () -> new Kl(1000f));
    assertThrows(IllegalArgumentException.class, () -> new Dkd(1f, 8f, 4f, 100_001));
    assertThrows(IllegalArgumentException.class, () -> new Cswt(new Kl(4f), 2f, 101f));
    assertEquals(new Kl(0.01f), Divergences.parse("kl(T=0.01)"));
  }

  @Test
  void cswtBoundsAndRepeatedKeys() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Divergences.parse("cswt(Tmax=1e6):kl"));
    assertTrue(e.getMessage().contains("Tmax must be in [0.01, 100], got 1e6"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Divergences.parse("kl(T=2, T=3)"));
    assertEquals("divergence 'kl(T=2, T=3)': T given twice", e.getMessage());
  }

  @Test
  void everyEntryListsItsParametersWithDescribedBounds() {
    for (Divergences.Entry e : Divergences.entries()) {
      for (Parameter p : e.parameters()) {
        String d = p.describe();
        assertTrue(d.startsWith(p.key() + " "), d);
        assertTrue(d.contains("default " + Parameter.format(p.defaultValue())), d);
        // The description's spec names the parameter with its default.
        assertTrue(e.description().contains(p.key() + "="), e.name() + ": " + e.description());
      }
      assertFalse(e.description().isBlank());
    }
    assertEquals("0.1", Parameter.format(0.1f));
    assertEquals("20", Parameter.format(20));
    assertEquals("iters an integer in [1, 1000], default 20", Sinkhorn.ITERATIONS.describe());
    assertEquals("in (0, 1)", JensenShannon.BETA.range().toLowerCase(Locale.ROOT));
  }
}
