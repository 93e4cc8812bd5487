/** Crash-safe writing of the files tf-kd produces, and TensorBoard event files. */
package dev.tfkd.io;
