#!/usr/bin/env sh
# Opt-in check (not part of `mvn verify`): every SavedModel version under the given paths loads with TensorFlow's
# C API in a separate process (no JVM) and gives the same logits as tf-kd's Java Predictor.
#
# usage: scripts/capi-check.sh PATH...     (export roots, model directories or version directories)
# needs: gcc, a built tfkd (mvn -q -B package -DskipTests), and TensorFlow Java's native libraries unpacked in
# ~/.javacpp/cache (any tfkd run does that). The native jar ships libtensorflow_cc.so.2, which exports the C API,
# but no C headers: scripts/capi/capi_predict.c declares the few functions it uses.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
jar="$repo/tf-kd-cli/target/tfkd.jar"
[ -f "$jar" ] || { echo "capi-check: $jar not found; build first: mvn -q -B package -DskipTests" >&2; exit 2; }
[ $# -ge 1 ] || { echo "usage: $0 PATH..." >&2; exit 2; }
cache="${JAVACPP_CACHE:-$HOME/.javacpp/cache}"
lib=$(dirname "$(find "$cache" -name 'libtensorflow_cc.so.2' | head -n 1)")
[ -n "$lib" ] && [ -d "$lib" ] || { echo "capi-check: no libtensorflow_cc.so.2 under $cache; run ./tfkd once first" >&2; exit 2; }
bin="$repo/target/capi/capi_predict"
mkdir -p "$(dirname "$bin")"
if [ ! -x "$bin" ] || [ "$here/capi/capi_predict.c" -nt "$bin" ]; then
  gcc -O2 -Wall -o "$bin" "$here/capi/capi_predict.c" -L"$lib" -l:libtensorflow_cc.so.2 -l:libtensorflow_framework.so.2 \
    -Wl,-rpath,"$lib"
fi
: "${TF_CPP_MIN_LOG_LEVEL:=2}"
export TF_CPP_MIN_LOG_LEVEL
exec java -cp "$jar" "$here/capi/CApiCompare.java" "$bin" "$@"
