#!/usr/bin/env bash
# The feature-distillation comparison of docs/feature-distillation.md: every method of `tfkd divergences`' feature
# list (plus the student alone and KD) distils a ResNet-8 student from a ResNet-14 teacher on Fashion-MNIST, seeds
# 1, 2 and 3, and each student is scored on the 10,000 test images.
#
#   scripts/feature-comparison.sh WORK_DIR [METHOD ...]
#
# Fashion-MNIST must be in /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist; FASHION=DIR
# elsewhere). The teacher trains on training images 0-49,999, the students on 50,000-51,999 (a small-data setting on
# purpose); the first 2,000 test images are scored after every epoch (progress only: nothing is chosen on them) and
# all 10,000 at the end with `tfkd evaluate`. Finished runs (RUN_DIR/results.json) are skipped, so a stopped
# comparison continues where it was. Prints one line per run to WORK_DIR/logs/summary.txt.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tfkd="$here/tfkd"
work=$1
shift
methods=("$@")
if [ ${#methods[@]} -eq 0 ]; then
  methods=(ce kd at sp pkt rkd dist fitnet vid crd ofd reviewkd)
fi
F=${FASHION:-/usr/share/datasets/fashion-mnist}
if [ ! -f "$F/train-images-idx3-ubyte.gz" ]; then
  echo "feature-comparison: no Fashion-MNIST in $F (apt-get install dataset-fashion-mnist, or FASHION=DIR)" >&2
  exit 2
fi
mkdir -p "$work/logs"
cd "$work"
for k in images-idx3 labels-idx1; do
  [ -f teacher50k/train-$k-ubyte.gz ] || sh "$here/scripts/idx-slice.sh" "$F/train-$k-ubyte.gz" teacher50k/train-$k-ubyte.gz 0 50000
  [ -f student/train-$k-ubyte.gz ] || sh "$here/scripts/idx-slice.sh" "$F/train-$k-ubyte.gz" student/train-$k-ubyte.gz 50000 2000
  [ -f val2k/t10k-$k-ubyte.gz ] || sh "$here/scripts/idx-slice.sh" "$F/t10k-$k-ubyte.gz" val2k/t10k-$k-ubyte.gz 0 2000
done
if [ ! -d models/fm50k-resnet14 ]; then
  "$tfkd" train-teacher --train teacher50k/train-images-idx3-ubyte.gz --test val2k/t10k-images-idx3-ubyte.gz \
    --model resnet14 --epochs 4 --threads 2 --seed 1 --run-dir runs/teacher50k-r14 --export-dir models \
    --name fm50k-resnet14 > logs/teacher.log 2>&1 || { echo "teacher training failed: $work/logs/teacher.log" >&2; exit 1; }
  "$tfkd" evaluate --model models/fm50k-resnet14 --data "$F/t10k-images-idx3-ubyte.gz" > logs/eval-teacher.log 2>&1
fi
for seed in 1 2 3; do
  for m in "${methods[@]}"; do
    case $m in
      ce) loss='ce' ;;
      kd) loss='ce:0.1, kl(T=4):0.9' ;;
      # The reference's 20 warm-up epochs are a twelfth of its 240; this run has 10.
      reviewkd) loss='ce:1, reviewkd(warmup=1)' ;;
      *) loss="ce:1, $m" ;;
    esac
    dir=runs/s$seed-$m
    if [ -f "$dir/results.json" ]; then continue; fi
    rm -rf "$dir"
    start=$(date +%s)
    "$tfkd" distill --teacher models/fm50k-resnet14 --train student/train-images-idx3-ubyte.gz \
      --test val2k/t10k-images-idx3-ubyte.gz --model resnet8 --epochs 10 --batch-size 64 --threads 2 \
      --seed "$seed" --loss "$loss" --run-dir "$dir" > "logs/s$seed-$m.log" 2>&1
    rc=$?
    "$tfkd" evaluate --model "$dir/export/student" --data "$F/t10k-images-idx3-ubyte.gz" > "logs/eval-s$seed-$m.log" 2>&1
    echo "$m seed $seed rc $rc wall $(($(date +%s) - start)) s" >> logs/summary.txt
  done
done
