#!/usr/bin/env bash
# The one test command (README.md, .ci/run): builds .venv-test with envkit and every test
# dependency from PyPI, then runs ruff, mypy and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${ENVKIT_TEST_VENV:-.venv-test}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check uv
"$VENV/bin/python" -m uv pip install -q --python "$VENV/bin/python" -e '.[test]'
# tensorrt-stubs declares a dependency on tensorrt itself, whose libs are a stub needing NVIDIA's index: types only.
"$VENV/bin/python" -m uv pip install -q --python "$VENV/bin/python" --no-deps tensorrt-stubs
export PATH="$PWD/$VENV/bin:$PATH"
echo "== ruff"; "$VENV/bin/ruff" check envkit tests benchmarks
echo "== mypy"; "$VENV/bin/mypy"
echo "== pytest"
# one worker per CPU (pytest-xdist); ENVKIT_TEST_WORKERS=0 runs in this process
"$VENV/bin/python" -m pytest -n "${ENVKIT_TEST_WORKERS:-auto}" "$@"
