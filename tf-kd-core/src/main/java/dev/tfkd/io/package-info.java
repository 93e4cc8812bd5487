/**
 * Crash-safe writing of the files tf-kd produces, the JSON writer, and TensorBoard event files.
 *
 * <p>Not API: exported only to {@code dev.tfkd.models} and {@code dev.tfkd.cli} (see {@code module-info.java}).
 */
package dev.tfkd.io;
