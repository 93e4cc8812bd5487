#!/usr/bin/env sh
# Writes records FROM .. FROM+COUNT-1 (0-based) of an IDX file (raw or .gz; MNIST, Fashion-MNIST) as a new
# gzipped IDX file with the count in its header corrected. Run it on an images file and on its labels file with the
# same FROM and COUNT to keep the pair aligned; tf-kd finds the labels beside the images by name.
#
#   scripts/idx-slice.sh IN OUT FROM COUNT
#   scripts/idx-slice.sh train-images-idx3-ubyte.gz part/train-images-idx3-ubyte.gz 50000 2000
set -eu
if [ $# -ne 4 ]; then
  echo "usage: $0 IN OUT FROM COUNT" >&2
  exit 2
fi
in=$1 out=$2 from=$3 count=$4
case $in in
  *.gz) cat_in() { gzip -dc "$in"; } ;;
  *) cat_in() { cat "$in"; } ;;
esac
# Header: 2 zero bytes, the element type, the number of dimensions d, then d big-endian uint32 sizes.
dims=$(cat_in | head -c 4 | od -An -tu1 | awk '{print $4}')
total=$(cat_in | head -c 8 | tail -c 4 | od -An -tu1 | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
record=1
i=1
while [ "$i" -lt "$dims" ]; do
  off=$((4 + 4 * i))
  size=$(cat_in | head -c $((off + 4)) | tail -c 4 | od -An -tu1 | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
  record=$((record * size))
  i=$((i + 1))
done
header=$((4 + 4 * dims))
if [ "$from" -lt 0 ] || [ "$count" -lt 1 ] || [ $((from + count)) -gt "$total" ]; then
  echo "$0: records $from..$((from + count - 1)) are not within the $total records of $in" >&2
  exit 2
fi
mkdir -p "$(dirname "$out")"
{
  cat_in | head -c 4
  for shift in 24 16 8 0; do
    # shellcheck disable=SC2059 (an octal escape built for the byte)
    printf "\\$(printf '%03o' $(((count >> shift) & 255)))"
  done
  cat_in | head -c "$header" | tail -c $((header - 8))
  cat_in | tail -c +$((header + from * record + 1)) | head -c $((count * record))
} | gzip -n > "$out.tmp"
mv "$out.tmp" "$out"
