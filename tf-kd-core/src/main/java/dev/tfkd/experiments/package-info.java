/**
 * Experiments that train several teachers and students and tabulate the results (MCMI teachers).
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.experiments;
