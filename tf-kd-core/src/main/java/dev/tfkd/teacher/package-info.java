/**
 * Teachers for distillation: the {@link dev.tfkd.teacher.Teacher} interface and its implementations (a
 * SavedModel in its own session, a frozen in-graph model, cached logits of either).
 */
package dev.tfkd.teacher;
