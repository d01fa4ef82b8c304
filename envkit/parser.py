"""envkit's command-line grammar: every verb, option, description and example (``build_parser``).

``envkit.cli`` parses with it and dispatches; completion scripts (``envkit completion``) are generated from it.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from envkit import __version__
from envkit.errors import UsageError, exit_code_table


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON record on stdout")


def _add_host(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        metavar="FILE",
        help="analyse another machine from a saved nvidia-smi capture (table, -q, -q -x, --query-gpu csv, -L, "
        "--version) or an `envkit doctor --json` record",
    )


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a UsageError, so `--json` reports it in the envelope too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, f"see `{self.prog} --help`")


def _add_env(p: argparse.ArgumentParser, verb: str = "use") -> None:
    p.add_argument("name", nargs="?", help=f"environment to {verb} (as `envkit list` shows it)")
    p.add_argument("--prefix", metavar="DIR", help=f"the environment to {verb}, by its directory instead of its name")


def _verb(sub: Any, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with one example."""
    return sub.add_parser(name, help=help, description=help, epilog=f"example:\n  {example}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="envkit",
        description="Reproducible, provably working TensorRT environments.",
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"envkit {__version__}")
    parser.add_argument("--project", metavar="DIR", help="project directory holding environments/ (default: found upward)")
    parser.add_argument("--matrix", metavar="FILE", help="use this matrix.yaml instead of the packaged one")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    _inspect_verbs(sub)
    _create_verbs(sub)
    _env_verbs(sub)
    _ci_verbs(sub)
    _explain_verb(sub)
    return parser


def _explain_verb(sub: Any) -> None:
    p = _verb(sub, "explain", "explain a failure: what failed, why, and the fix for this machine and environment",
              "envkit explain build.log trt-yolo   |   envkit explain -- python infer.py")
    p.description = ("Read a log (FILE, or - for standard input) or run `-- CMD ARGS`, and explain every known "
                     "failure in it. Exit 1 when it diagnosed one, 0 when none, 2 for unreadable input; "
                     "with -- CMD the command's own exit code.")
    p.add_argument("input", nargs="?", metavar="FILE", help="the log to read; - for standard input")
    p.add_argument("name", nargs="?", metavar="NAME", help="the environment the failure happened in")
    p.add_argument("--prefix", metavar="DIR", help="the environment by its directory instead of its name")
    _add_host(p)
    p.add_argument("--probe", action="store_true", help="use this machine's facts for a log read from FILE or stdin")
    p.add_argument("--check-catalogue", action="store_true",
                   help="validate the explain catalogue and the project's overlays (environments/explain.d/*.yaml)")
    _add_json(p)


def _inspect_verbs(sub: Any) -> None:
    p = _verb(sub, "doctor", "inspect this machine (or a saved capture): driver, CUDA, GPUs, tools",
              "envkit doctor --host nvidia-smi-q.txt")
    p.add_argument("name", nargs="?", help="an environment: also show the GPU libraries it loads (as `envkit libs NAME`)")
    _add_host(p)
    p.add_argument("--nvidia-smi", metavar="PATH", help="nvidia-smi to run (default: $ENVKIT_NVIDIA_SMI, PATH, known places)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="seconds before a hanging nvidia-smi is abandoned (default $ENVKIT_NVIDIA_SMI_TIMEOUT or 20)")
    _add_json(p)

    p = _verb(sub, "matrix", "show or check the compatibility matrix", "envkit matrix --ngc 24.05-py3")
    p.add_argument("--check", action="store_true", help="validate matrix.yaml (schema, references, contradictions)")
    p.add_argument("--ngc", metavar="TAG", help="show the stack of one NGC TensorRT container tag")
    p.add_argument("--gpu", metavar="NAME", help="one line: a GPU's compute capability and what supports it")
    p.add_argument("--trt", metavar="VERSION", help="one line: a TensorRT release (any spelling: 10.13, 10.13.2.6)")
    p.add_argument("--cuda", metavar="VERSION", help="one line: a CUDA release's drivers, architectures, TensorRT")
    p.add_argument("--driver", metavar="VERSION", help="one line: what this driver runs (535.104.05, 591.86)")
    _add_json(p)

    p = _verb(sub, "list", "list profiles and every created environment with its state; with NAME, its packages",
              "envkit list trt-yolo")
    p.add_argument("name", nargs="?", help="an environment: list its installed packages (as `envkit packages`)")
    p.add_argument("--prefix", metavar="DIR", help="list the packages of the environment in this directory")
    _add_json(p)

    p = _verb(sub, "resolve", "pick the newest stack a profile allows and the host can run", "envkit resolve trt-yolo")
    p.add_argument("name", help="profile name (environments/NAME.yaml) or a path to a profile")
    _add_host(p)
    p.add_argument("--all", action="store_true", help="every rejected candidate with its reasons (a table)")
    p.add_argument("-v", "--verbose", action="store_true", help="notes in full instead of one line each")
    _add_json(p)

    p = _verb(sub, "generate", "write the pinned environment.yml for the resolved stack", "envkit generate trt-yolo")
    p.add_argument("name", help="profile name or path")
    _add_host(p)
    p.add_argument("-o", "--output", metavar="PATH", help="where to write (default environments/NAME/environment.yml)")
    p.add_argument("--force", action="store_true", help="overwrite even a file a person edited")
    _add_json(p)

    p = _verb(sub, "validate", "check any conda environment file for TensorRT/CUDA problems",
              "envkit validate environment.yml --host nvidia-smi.txt")
    p.add_argument("file", help="environment.yml to check")
    _add_host(p)
    _add_json(p)

    p = _verb(sub, "init", "start a profile (environments/NAME.yaml), commented, from options or an environment file",
              'envkit init detector --from environment.yml --tensorrt ">=10" --precision fp16')
    p.add_argument("name", help="profile name (environments/NAME.yaml is written)")
    p.add_argument("--from", dest="from_file", metavar="ENVIRONMENT.yml",
                   help="derive the stack ranges from this file and keep its other packages")
    for key, example in (("tensorrt", ">=10"), ("cuda", ">=12.0"), ("cudnn", ">=9 or required"), ("python", ">=3.10")):
        p.add_argument(f"--{key}", metavar="RANGE", help=f"PEP 440 range for {key} (e.g. \"{example}\")")
    p.add_argument("--precision", action="append", default=[], metavar="NAME",
                   help="a precision the engines use (fp16, int8, ...; repeatable)")
    p.add_argument("--platform", action="append", default=[], metavar="PLATFORM",
                   help="linux-64, linux-aarch64 or win-64 (repeatable; default linux-64)")
    p.add_argument("--channel", action="append", default=[], metavar="CHANNEL", help="conda channel (repeatable)")
    p.add_argument("--conda", action="append", default=[], metavar="SPEC", help="extra conda package (repeatable)")
    p.add_argument("--pip", action="append", default=[], metavar="SPEC", help="extra pip package (repeatable)")
    p.add_argument("--target", action="append", default=[], metavar="SPEC",
                   help="a machine `check --all` checks, e.g. linux-64:driver=535.104.05 (repeatable)")
    p.add_argument("--description", metavar="TEXT", help="what the environment is for")
    p.add_argument("--force", action="store_true", help="replace an existing profile of that name")
    _add_json(p)

    p = _verb(sub, "completion", "print the shell completion script (verbs, options, profile and environment names)",
              'eval "$(envkit completion bash)"')
    p.add_argument("shell", nargs="?", choices=["bash", "zsh", "fish"], help="the shell to complete in")
    p.add_argument("--list", choices=["profiles", "environments"], help=argparse.SUPPRESS)


def _create_verbs(sub: Any) -> None:
    p = _verb(sub, "create", "build an environment (resolve, generate, solve, install, lock, smoke)",
              "envkit create trt-yolo")
    p.add_argument("name", nargs="?", help="profile name")
    p.add_argument("--file", metavar="ENVIRONMENT.yml", help="create from any environment file")
    p.add_argument("--name", dest="env_name", metavar="NAME", help="environment name (with --file)")
    p.add_argument("--prefix", metavar="DIR", help="install into this directory")
    _add_host(p)
    p.add_argument("--channel", action="append", default=[], metavar="URL", help="use these channels (repeatable)")
    p.add_argument("--offline", action="store_true", help="use only caches and local channels")
    p.add_argument("--locked", action="store_true", help="install exactly the lock file, no solve")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    p.add_argument("--no-smoke", action="store_true", help="skip the smoke test")
    p.add_argument("--backend", choices=["rattler", "conda", "mamba", "micromamba"], default="rattler",
                   help="the engine that installs (default: rattler, embedded)")
    p.add_argument("--dry-run", action="store_true", help="solve and show what would be installed")
    p.add_argument("--installer", choices=["uv", "pip"], default=None,
                   help="what installs the pip: section (default uv; pip where uv cannot serve an option "
                   "or a pip.conf exists; also ENVKIT_PIP)")
    _add_json(p)

    p = _verb(sub, "clean", "remove envkit's caches, smoke engines and leftover lock files (with sizes)",
              "envkit clean --dry-run")
    p.add_argument("--cache", action="store_true", help="envkit's cache (repodata, packages, parsed matrix)")
    p.add_argument("--locks", action="store_true", help="lock files and unfinished staging folders nobody holds")
    p.add_argument("--engines", action="store_true", help="TensorRT engines the smoke test built")
    p.add_argument("--dry-run", action="store_true", help="show what would be removed and its size; remove nothing")
    _add_json(p)


def _env_verbs(sub: Any) -> None:
    p = _verb(sub, "run", "run a command inside an environment (with activation)", "envkit run trt-yolo -- python -V")
    _add_env(p, "run in")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")

    p = _verb(sub, "shell", "start a subshell with an environment active (exit to leave)", "envkit shell trt-yolo")
    _add_env(p, "activate")

    p = _verb(sub, "shell-hook", "print the activation script for eval (activate.d included)",
              'eval "$(envkit shell-hook trt-yolo)"')
    _add_env(p, "activate")
    p.add_argument("--shell", choices=["bash", "zsh", "fish", "powershell"],
                   help="the shell the script is for (default: $SHELL, else bash)")
    _add_json(p)

    p = _verb(sub, "packages", "the installed packages: version, build, channel; installer for pip/uv ones",
              "envkit packages trt-yolo")
    _add_env(p, "list")
    _add_json(p)

    p = _verb(sub, "export", "write an environment's packages as environment.yml, @EXPLICIT, its lock or requirements",
              "envkit export trt-yolo --format explicit -o trt-yolo.txt")
    _add_env(p, "export")
    p.add_argument("--format", choices=["environment-yml", "explicit", "lock", "requirements"],
                   default="environment-yml", help="what to write (default environment-yml)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE when it exists")
    _add_json(p)

    p = _verb(sub, "update", "re-resolve and re-solve an environment, show what changes, apply it atomically",
              "envkit update trt-yolo --dry-run")
    _add_env(p, "update")
    _add_host(p)
    p.add_argument("--channel", action="append", default=[], metavar="URL", help="use these channels (repeatable)")
    p.add_argument("--offline", action="store_true", help="use only caches and local channels")
    p.add_argument("--no-smoke", action="store_true", help="skip the smoke test of the updated environment")
    p.add_argument("--dry-run", action="store_true", help="show the changes; change nothing")
    _add_json(p)

    p = _verb(sub, "remove", "remove a created environment (asks first on a terminal)", "envkit remove trt-yolo -y")
    _add_env(p, "remove")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation (needed when not on a terminal)")
    p.add_argument("--force", action="store_true", help="remove even while processes run inside the environment")
    _add_json(p)

    p = _verb(sub, "smoke", "prove an environment works: driver, CUDA, cuDNN, TensorRT, onnxruntime",
              "envkit smoke trt-yolo --model yolov8n.onnx --shape images:1x3x640x640")
    _add_env(p, "test")
    p.add_argument("--python", metavar="EXE", help="run the payload with this Python instead of the prefix's")
    p.add_argument("--model", metavar="FILE.onnx", help="smoke-test this ONNX model")
    p.add_argument("--shape", action="append", default=[], metavar="NAME:1x3x224x224", help="fix a dynamic input shape")
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="seconds before the smoke test is stopped (default 600)")
    _add_json(p)

    p = _verb(sub, "libs", "which CUDA/cuDNN/TensorRT libraries an environment loads, from where, what shadows what",
              "envkit libs trt-yolo --live")
    _add_env(p, "inspect")
    p.add_argument("--python", metavar="EXE", help="the environment's interpreter (default: the prefix's)")
    p.add_argument("--live", action="store_true",
                   help="also load them in the environment's Python and compare with the prediction")
    _add_json(p)


def _ci_verbs(sub: Any) -> None:
    p = _verb(sub, "check", "CI pre-check: every environment still resolves and solves, per target",
              "envkit check --all --target linux-64:driver=535.104.05 --junit report.xml")
    p.add_argument("names", nargs="*", help="profiles to check (default with --all: every profile)")
    p.add_argument("--all", action="store_true", help="check every profile of the project")
    p.add_argument("--file", action="append", default=[], metavar="ENVIRONMENT.yml",
                   help="also check this environment file (repeatable)")
    p.add_argument("--target", action="append", default=[], metavar="SPEC",
                   help="linux-64, linux-aarch64:cuda=12.4, linux-64:driver=535.104.05, host:FILE")
    p.add_argument("--channel", action="append", default=[], metavar="URL",
                   help="solve against these channels instead of the files' (repeatable)")
    p.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report to FILE (for CI)")
    p.add_argument("--offline", action="store_true", help="use only cached repodata and local channels")
    p.add_argument("--list", action="store_true",
                   help="print the (environment, target) jobs and their shards, check nothing (docs/ci.md)")
    p.add_argument("--shard", metavar="I/N",
                   help="run the I-th of N deterministic, balanced shares of the jobs (CI fan-out, docs/ci.md)")
    _add_json(p)

    p = _verb(sub, "mirror-check", "compare a mirror with upstream for the pinned packages",
              "envkit mirror-check --mirror https://mirror.example.com/conda-forge --upstream conda-forge")
    p.add_argument("names", nargs="*", help="profiles whose locked packages are compared (default: all)")
    p.add_argument("--mirror", metavar="URL", help="the mirror to check (default: envkit.toml [mirrors])")
    p.add_argument("--upstream", metavar="URL", help="the channel the mirror copies (default: the channel it mirrors)")
    _add_json(p)

    p = _verb(sub, "bundle", "download the locked packages into an offline channel folder",
              "envkit bundle trt-yolo --out ./trt-yolo-bundle")
    p.add_argument("name", nargs="?", help="profile whose locked packages are bundled (not needed with --verify)")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (created; must not be a file)")
    p.add_argument("--verify", action="store_true", help="re-hash an existing bundle against its manifest (sha256)")
    _add_json(p)
