/**
 * Distillation divergences as stateless graph builders, by name in {@link dev.tfkd.losses.Divergences}. Each
 * divergence is a small validated record returning one value per example; reduction over the batch happens in the
 * objective. Those with a temperature implement {@link dev.tfkd.losses.Tempered}, so the per-example temperature
 * policy {@link dev.tfkd.losses.Cswt} can replace their constant T. All computation is in log space.
 *
 * <p>API: exported by {@code dev.tfkd.core}.
 */
package dev.tfkd.losses;
