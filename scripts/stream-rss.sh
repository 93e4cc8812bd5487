#!/usr/bin/env sh
# Streams a generated TFRecord set about ten times larger than the Java heap through `tfkd train-teacher` and
# samples the process's resident memory (VmRSS from /proc) every few seconds.
#   scripts/stream-rss.sh DATA_DIR RUN_DIR [EXAMPLES] [SECONDS_BETWEEN_SAMPLES] [EPOCHS]
# DATA_DIR is written by `tfkd data synth` when it holds no shards yet (800,000 examples of 28x28x1: 2.57 GB).
# Prints "seconds rss_mb" lines, then the run's exit status. Run it at low priority on a shared machine:
#   nice -n 10 scripts/stream-rss.sh /tmp/big runs/stream-rss
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
data=$1
run=$2
examples=${3:-800000}
every=${4:-5}
epochs=${5:-1}
jar=${TFKD_JAR:-"$here/tf-kd-cli/target/tfkd.jar"}
if ! ls "$data"/train-*.tfrecord >/dev/null 2>&1; then
  java -Xmx256m -jar "$jar" data synth --out "$data" --examples "$examples" --shards 16 --shape 28,28,1 --classes 10
fi
du -sh "$data"
TF_CPP_MIN_LOG_LEVEL=2 java -Xmx256m -Xmn16m -jar "$jar" train-teacher --train "$data/train-*.tfrecord" \
  --model mlp:64 --epochs "$epochs" --batch-size 128 --run-dir "$run" > "$run.log" 2>&1 &
pid=$!
start=$(date +%s)
echo "seconds rss_mb"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )) $rss"
  sleep "$every"
done
wait "$pid"
status=$?
echo "exit $status after $(( $(date +%s) - start )) s"
exit $status
