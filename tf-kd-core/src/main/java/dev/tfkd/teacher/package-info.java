/**
 * Teachers for distillation: the {@link dev.tfkd.teacher.Teacher} interface and its implementations (a
 * SavedModel in its own session, a frozen in-graph model, cached logits of either).
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.teacher;
