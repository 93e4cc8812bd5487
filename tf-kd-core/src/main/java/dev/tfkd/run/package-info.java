/**
 * The front door for applications and the command line: {@link dev.tfkd.run.Distiller} distils a student from a
 * {@link dev.tfkd.teacher.Teacher}, {@link dev.tfkd.run.TeacherTrainer} trains a teacher with one of the teacher
 * objectives; both run with checkpoints, resume, logs, early stopping, final scoring, export, {@code
 * results.json} and a report ({@link dev.tfkd.run.RunReport}) in a {@link dev.tfkd.run.RunDirectory}, and return a
 * {@link dev.tfkd.run.RunResult}. {@link dev.tfkd.run.RunSpec} maps a run configuration onto them.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.run;
