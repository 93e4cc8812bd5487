/** Experiments that train several teachers and students and tabulate the results (MCMI teachers). */
package dev.tfkd.experiments;
