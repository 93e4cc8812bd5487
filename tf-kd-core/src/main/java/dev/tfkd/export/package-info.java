/** SavedModel export in TensorFlow Serving's layout, published atomically. */
package dev.tfkd.export;
