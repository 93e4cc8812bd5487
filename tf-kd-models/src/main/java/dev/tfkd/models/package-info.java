/** The model zoo: architectures as graph builders implementing {@link dev.tfkd.graph.Architecture}. */
package dev.tfkd.models;
