/**
 * Readers for dataset files: IDX (MNIST and the like), CIFAR-10/100 binary, CSV, image folders and TFRecord files of
 * {@code tf.Example}. Every reader checks what a file declares against what it holds before allocating, and reports
 * bad input as one {@link dev.tfkd.data.io.DataFormatException} naming the file and the place. {@link
 * dev.tfkd.data.io.DataSources} opens data by path or built-in name, detecting the format, and is the way in.
 * This package builds on {@code dev.tfkd.data} (the {@code Dataset} the readers produce); never the reverse.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.data.io;
