/**
 * Feature distillation: losses on intermediate representations ({@link dev.tfkd.graph.FeaturePoint}s) of student
 * and teacher, as stateless graph builders like the logit divergences ({@link FeatureLoss}, registry {@link
 * FeatureLosses}), and {@link LossSpec}, the weighted sum of cross-entropy, logit divergences and feature losses
 * written {@code ce:1, kl(T=4):0.9, at:1000}.
 */
package dev.tfkd.features;
