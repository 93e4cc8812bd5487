/** Crash-safe writing of the files tf-kd produces, the JSON writer, and TensorBoard event files. */
package dev.tfkd.io;
