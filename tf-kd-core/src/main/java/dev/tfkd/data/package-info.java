/**
 * Datasets held in memory, the built-in synthetic data, and batching.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.data;
