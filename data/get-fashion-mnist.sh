#!/usr/bin/env bash
# Puts the four Fashion-MNIST IDX .gz files (60,000 training + 10,000 test images) into data/fashion-mnist/.
# 1. Debian's package dataset-fashion-mnist installs them under /usr/share/datasets/fashion-mnist: copied from there
#    (installed first when apt-get is usable as root).
# 2. Otherwise they are downloaded from the dataset's official location.
# The samples also read /usr/share/datasets/fashion-mnist directly, so on Debian step 1 alone is enough.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/fashion-mnist"
system=/usr/share/datasets/fashion-mnist
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
mkdir -p "$target"

if [ ! -f "$system/${files[0]}" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y dataset-fashion-mnist || (apt-get update && apt-get install -y dataset-fashion-mnist) || true
fi
for f in "${files[@]}"; do
  if [ -f "$system/$f" ]; then
    cp "$system/$f" "$target/$f.part" && mv "$target/$f.part" "$target/$f"
  else
    curl -fL --retry 3 -o "$target/$f.part" "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/$f"
    mv "$target/$f.part" "$target/$f"
  fi
done
ls -l "$target"
