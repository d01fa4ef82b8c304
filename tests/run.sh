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
# the shell-hook, activation and completion tests run real zsh and fish (Debian packages, not in every image)
missing=""
for sh in zsh fish; do command -v "$sh" >/dev/null 2>&1 || missing="$missing $sh"; done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # shellcheck disable=SC2086  # one word per package
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null 2>&1 \
    || echo "note: could not install$missing: their tests will skip"
fi
export PATH="$PWD/$VENV/bin:$PATH"
echo "== ruff"; "$VENV/bin/ruff" check envkit tests benchmarks
echo "== mypy"; "$VENV/bin/mypy"
echo "== pytest"
# one worker per CPU (pytest-xdist); ENVKIT_TEST_WORKERS=0 runs in this process
"$VENV/bin/python" -m pytest -n "${ENVKIT_TEST_WORKERS:-auto}" "$@"
