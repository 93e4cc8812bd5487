package dev.tfkd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Core messages name configuration fields; a front end renders them in its own words. */
class ConfigExceptionTest {
  @Test
  void namesFieldsAndRendersThemForAFrontEnd() {
    ConfigException e = new ConfigException("{data.validation_split} 0.5 leaves 0; or choose another {output.run_dir}");
    assertEquals("data.validation_split 0.5 leaves 0; or choose another output.run_dir", e.getMessage());
    assertEquals(List.of("data.validation_split", "output.run_dir"), e.fields());
    assertEquals(
        "--validation-split 0.5 leaves 0; or choose another --run-dir",
        e.render(f -> f.equals("output.run_dir") ? "--run-dir" : "--validation-split"));
  }

  @Test
  void bracesInValuesAreNotFields() {
    ConfigException e = new ConfigException("{model} 'mlp:{x}' is not a spec");
    assertEquals(List.of("model"), e.fields());
    assertEquals("--model 'mlp:{x}' is not a spec", e.render(f -> "--" + f));
    assertEquals(List.of(), new ConfigException("{data.nope} and {datum} {resume.x}").fields());
    assertEquals(List.of("data.train", "resume"), new ConfigException("{data.train} {resume}").fields());
  }
}
