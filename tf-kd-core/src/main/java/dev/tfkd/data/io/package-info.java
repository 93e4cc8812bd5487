/**
 * Readers for dataset files: IDX (MNIST and the like), CIFAR-10/100 binary, CSV, image folders and TFRecord files of
 * {@code tf.Example}. Every reader checks what a file declares against what it holds before allocating, and reports
 * bad input as one {@link dev.tfkd.data.io.DataFormatException} naming the file and the place.
 */
package dev.tfkd.data.io;
