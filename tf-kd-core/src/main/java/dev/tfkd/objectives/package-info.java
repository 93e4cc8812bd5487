/**
 * Teacher objectives and their schedules: maximum log-likelihood, MCMI (maximum conditional mutual information,
 * Ye et al. ICLR 2024) with its class-centroid feed, CMIM (minimum CMI), MSE to one-hot and label smoothing, and
 * the {@link dev.tfkd.objectives.TeacherObjectives} registry that names them.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.objectives;
