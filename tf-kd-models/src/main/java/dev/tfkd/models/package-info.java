/**
 * The model zoo: architectures as graph builders implementing {@link dev.tfkd.graph.Architecture}.
 *
 * <p>API: exported by {@code dev.tfkd.models}.
 */
package dev.tfkd.models;
