/**
 * A training run described as data: {@code run_config.proto} (compiled into {@link dev.tfkd.config.RunConfig} and
 * friends) and {@link dev.tfkd.config.RunConfigs}, which reads config files in protobuf text format, applies
 * defaults and command-line overrides, validates, and writes the resolved configuration with the run.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.config;
