"""Runs ONNX's own checker (Debian's python3-onnx) on every model the exporter tests write, and records the verdicts.

    AUTOGRAD_ONNX_DUMP=/tmp/onnx-exports dotnet test tests/AutoGrad.Onnx.Tests -c Release --filter Name=ExportedModelsPassTheOnnxChecker
    /usr/bin/python3 tests/reference/check_onnx_exports.py /tmp/onnx-exports

writes tests/reference/fixtures/onnx_checker.json: per model, the structural hash the C# test computed (its file
name's suffix) and the checker's verdict ("ok" or the error). The test then requires every current export to have
a verdict of "ok" under its current hash, so a change to what the exporter writes needs this run again.
"""
import json
import os
import sys

import onnx

folder = sys.argv[1]
verdicts = {}
for file in sorted(os.listdir(folder)):
    if not file.endswith(".onnx"):
        continue
    name, digest = file[: -len(".onnx")].rsplit(".", 1)
    model = onnx.load(os.path.join(folder, file))
    try:
        onnx.checker.check_model(model, full_check=True)
        verdict = "ok"
    except Exception as e:  # the checker's ValidationError and shape-inference errors
        verdict = str(e).strip().splitlines()[0]
    verdicts[name] = {"structure_sha256": digest, "verdict": verdict}
    print(f"{name}: {verdict}")

out = os.path.join(os.path.dirname(__file__), "fixtures", "onnx_checker.json")
with open(out, "w") as f:
    json.dump({"checker": f"onnx {onnx.__version__}", "models": verdicts}, f, indent=1, sort_keys=True)
print(f"wrote {out}: {sum(v['verdict'] == 'ok' for v in verdicts.values())} of {len(verdicts)} ok")
