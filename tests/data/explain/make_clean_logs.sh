#!/usr/bin/env bash
# Regenerates tests/data/explain/clean/*.log from REAL runs (PyPI, the local test channel, the shared
# nvidia-smi fixtures, real builds). Every file is the captured stdout+stderr of the command named in
# clean/COMMANDS.tsv. Run from the repository root: bash tests/data/explain/make_clean_logs.sh
set -u
ROOT=$(pwd)
OUT=$ROOT/tests/data/explain/clean
PY=$ROOT/.venv-test/bin/python
WORK=$(mktemp -d)
SHARED=${ENVKIT_SHARED:-$ROOT/../shared}
[ -d "$SHARED" ] || SHARED=$ROOT/../../shared
: > "$OUT/COMMANDS.tsv"
cap() {  # cap NAME CMD...: run, capture, record
  local name=$1; shift
  ( cd "$WORK" && "$@" ) > "$OUT/$name.log" 2>&1
  printf '%s\t%s\t%s\n' "$name.log" "$?" "$*" | sed "s#$WORK#\$WORK#g; s#$ROOT#\$ROOT#g" >> "$OUT/COMMANDS.tsv"
}
python3 -m venv "$WORK/v"
V=$WORK/v/bin
cap pip-install-packaging-pyyaml "$V/pip" install --no-cache-dir packaging pyyaml
cap pip-install-nvidia-cuda-runtime-cu12 "$V/pip" install --no-cache-dir nvidia-cuda-runtime-cu12
cap pip-install-nvidia-cuda-nvrtc-cu12-verbose "$V/pip" install --no-cache-dir -v nvidia-cuda-nvrtc-cu12
cap pip-install-onnx "$V/pip" install --no-cache-dir onnx
cap pip-install-onnxruntime "$V/pip" install --no-cache-dir onnxruntime
cap pip-download-tensorrt-cu12-sdist "$V/pip" download --no-cache-dir --no-deps -d "$WORK/dl" tensorrt-cu12==10.3.0
cap pip-wheel-six-sdist "$V/pip" wheel --no-cache-dir --no-deps --no-binary :all: -w "$WORK/wh" six
cap pip-wheel-markupsafe-gcc "$V/pip" wheel --no-cache-dir --no-deps --no-binary :all: -w "$WORK/wh" markupsafe
cap pip-wheel-envkit-hatchling "$V/pip" wheel --no-cache-dir --no-deps -w "$WORK/wh" "$ROOT"
cap pip-list-nvidia "$V/pip" list
cap pip-check "$V/pip" check
cap pip-show-files-nvidia-cuda-runtime "$V/pip" show -f nvidia-cuda-runtime-cu12
cap nvidia-smi-h200-table cat "$SHARED/fixtures/nvidia-smi/h200-driver-580.159.04/table.txt"
cap nvidia-smi-h200-q cat "$SHARED/fixtures/nvidia-smi/h200-driver-580.159.04/q.txt"
cap nvidia-smi-h200-query-gpu-csv cat "$SHARED/fixtures/nvidia-smi/h200-driver-580.159.04/query-gpu.csv"
cap nvidia-smi-h100-8x-table cat "$SHARED/corpus/nvidia-smi/gpud-8x-h100-80gb-hbm3-550.90.07.txt"
cap envkit-doctor-host-h200 "$ROOT/.venv-test/bin/envkit" doctor --host "$SHARED/fixtures/nvidia-smi/h200-driver-580.159.04/q.txt"
cap envkit-create-local-channel "$PY" "$ROOT/tests/data/explain/create_from_test_channel.py" "$WORK/ch" create
cap envkit-create-dry-run-local-channel "$PY" "$ROOT/tests/data/explain/create_from_test_channel.py" "$WORK/ch2" dry-run
cap pytest-host-tests "$PY" -m pytest -q -p no:cacheprovider "$ROOT/tests/host"
rm -rf "$WORK"
