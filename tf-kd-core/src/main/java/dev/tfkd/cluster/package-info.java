/**
 * Training on TensorFlow's own distributed runtime: the cluster's tasks ({@code ClusterSpec}), starting a task's
 * gRPC server ({@code TaskServer}) and opening a session on a task's {@code grpc://} target ({@code
 * RemoteSession}). The replicated training graph itself is built by {@code dev.tfkd.training.Replication}.
 *
 * <p>API: exported by {@code dev.tfkd.core}; used by the CLI's {@code task} command and the {@code --cluster}
 * option of the training commands.
 */
package dev.tfkd.cluster;
