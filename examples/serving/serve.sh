#!/usr/bin/env bash
# Serves every model under an export root with TensorFlow Serving, then sends each one a predict request and a
# classify request over REST.
#
#   examples/serving/serve.sh ROOT            e.g. examples/serving/serve.sh savedmodels/demo
#
# Steps: 1. `tfkd export --serving-config ROOT --base-path /models` writes ROOT/models.config (one entry per model
# directory ROOT/<name> holding a version that passes `tfkd inspect --check`); 2. every base_path in it is checked
# to be /models/<name> for a ROOT/<name>/<version>/saved_model.pb; 3. the server is started in Docker with ROOT
# mounted at /models; 4. each model gets a request built from its exported signature (input shape from
# `tfkd inspect`): all-zero inputs written as 0.0, since TensorFlow Serving's REST API reads a JSON number without a
# decimal point as an integer and refuses it for a float input.
#
# Environment: TFKD (the tfkd command, default: the launcher beside this repository's pom), PORT (default 8501),
# IMAGE (default tensorflow/serving:2.18.0), DRY_RUN=1 (check the config and print the commands and request
# bodies without starting the server or sending anything: what the test runs).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 EXPORT_ROOT" >&2
  exit 2
fi
root=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tfkd=${TFKD:-"$here/../../tfkd"}
port=${PORT:-8501}
image=${IMAGE:-tensorflow/serving:2.18.0}
dry=${DRY_RUN:-0}

# 1. The model config, as the server will see the root: mounted at /models.
$tfkd export --serving-config "$root" --base-path /models --out "$root/models.config" >/dev/null
config="$root/models.config"

# 2. Every entry's base path must be the mount point plus a model directory that holds a SavedModel version.
names=$(sed -n 's/^ *name: "\(.*\)"$/\1/p' "$config")
if [ -z "$names" ]; then
  echo "serve.sh: $config lists no model" >&2
  exit 1
fi
for name in $names; do
  base=$(grep -A1 "name: \"$name\"" "$config" | sed -n 's/^ *base_path: "\(.*\)"$/\1/p')
  if [ "$base" != "/models/$name" ]; then
    echo "serve.sh: $config: model $name has base_path '$base', expected /models/$name" >&2
    exit 1
  fi
  if ! ls "$root/$name"/*/saved_model.pb >/dev/null 2>&1; then
    echo "serve.sh: $root/$name holds no <version>/saved_model.pb" >&2
    exit 1
  fi
done

docker_cmd=(docker run --rm -d -p "$port:8501" -v "$root:/models" "$image" --model_config_file=/models/models.config)
echo "# server"
echo "${docker_cmd[*]}"
if [ "$dry" != 1 ]; then
  container=$("${docker_cmd[@]}")
  trap 'docker stop "$container" >/dev/null' EXIT
  for _ in $(seq 1 60); do
    curl -sf "http://localhost:$port/v1/models/$(echo "$names" | head -1)" >/dev/null && break
    sleep 1
  done
fi

# 3. One predict and one classify request per model, shaped by its signature.
for name in $names; do
  # "input  inputs: inputs:0 DT_FLOAT [-1, 20]" in the predict signature.
  shape=$($tfkd inspect "$root/$name" | sed -n 's/^ *input  inputs: [^ ]* DT_FLOAT \[-1, *\(.*\)\]$/\1/p' | sed -n 1p)
  if [ -z "$shape" ]; then
    echo "serve.sh: $root/$name: no float input 'inputs' [-1, ...] in its signature" >&2
    exit 1
  fi
  size=1
  for d in ${shape//,/ }; do
    size=$((size * d))
  done
  values=$(awk -v n="$size" 'BEGIN { for (i = 1; i <= n; i++) printf "%s0.0", (i > 1 ? "," : "") }')
  # A flat instance fits a [-1, N] input; an image input takes nested rows, built from the shape's dimensions.
  instance="[$values]"
  dims=(${shape//,/ })
  if [ ${#dims[@]} -gt 1 ]; then
    instance=$(awk -v dims="${shape// /}" 'BEGIN {
      n = split(dims, d, ","); s = "0.0";
      for (i = n; i >= 1; i--) { t = "["; for (j = 1; j <= d[i]; j++) t = t (j > 1 ? "," : "") s; s = t "]" }
      print s }')
  fi
  predict="{\"instances\": [$instance]}"
  classify="{\"signature_name\": \"classify\", \"examples\": [{\"x\": [$values]}]}"
  echo "# $name: predict (input shape [-1, $shape])"
  echo "curl -s -d '$predict' http://localhost:$port/v1/models/$name:predict"
  echo "# $name: classify"
  echo "curl -s -d '$classify' http://localhost:$port/v1/models/$name:classify"
  if [ "$dry" != 1 ]; then
    curl -sf -d "$predict" "http://localhost:$port/v1/models/$name:predict"
    echo
    curl -sf -d "$classify" "http://localhost:$port/v1/models/$name:classify"
    echo
  fi
done
