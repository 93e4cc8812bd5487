/** Datasets held in memory, the built-in synthetic data, and batching. */
package dev.tfkd.data;
