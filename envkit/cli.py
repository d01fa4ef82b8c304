"""The ``envkit`` command line: parse, dispatch to one module per verb, render, exit.

This is the only module that prints or exits. Verbs live in ``envkit.commands.<verb>``
and are imported only when called, so ``envkit --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from envkit import __version__
from envkit.errors import EnvkitError, ExitCode, UsageError, exit_code_table

# verb -> module in envkit.commands
VERBS = {
    "doctor": "doctor",
    "matrix": "matrix",
    "list": "listing",
    "resolve": "resolve",
    "generate": "generate",
    "validate": "validate",
    "create": "create",
    "run": "run",
    "remove": "remove",
    "smoke": "smoke",
    "check": "check",
    "mirror-check": "mirror_check",
    "bundle": "bundle",
}

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

    p = sub.add_parser("doctor", help="inspect this machine (or a saved capture): driver, CUDA, GPUs, tools")
    _add_host(p)
    p.add_argument("--nvidia-smi", metavar="PATH", help="nvidia-smi to run (default: $ENVKIT_NVIDIA_SMI, PATH, known places)")
    p.add_argument("--timeout", type=float, default=None, help="seconds before a hanging nvidia-smi is abandoned")
    _add_json(p)

    p = sub.add_parser("matrix", help="show or check the compatibility matrix")
    p.add_argument("--check", action="store_true", help="validate matrix.yaml (schema, references, contradictions)")
    p.add_argument("--ngc", metavar="TAG", help="show the stack of one NGC TensorRT container tag")
    _add_json(p)

    p = sub.add_parser("list", help="list profiles and created environments")
    _add_json(p)

    p = sub.add_parser("resolve", help="pick the newest stack a profile allows and the host can run")
    p.add_argument("name", help="profile name (environments/NAME.yaml) or a path to a profile")
    _add_host(p)
    p.add_argument("--all", action="store_true", help="every rejected candidate with its reasons (a table)")
    p.add_argument("-v", "--verbose", action="store_true", help="notes in full instead of one line each")
    _add_json(p)

    p = sub.add_parser("generate", help="write the pinned environment.yml for the resolved stack")
    p.add_argument("name", help="profile name or path")
    _add_host(p)
    p.add_argument("-o", "--output", metavar="PATH", help="where to write (default environments/NAME/environment.yml)")
    p.add_argument("--force", action="store_true", help="overwrite even a file a person edited")
    _add_json(p)

    p = sub.add_parser("validate", help="check any conda environment file for TensorRT/CUDA problems")
    p.add_argument("file", help="environment.yml to check")
    _add_host(p)
    _add_json(p)

    p = sub.add_parser("create", help="build an environment (resolve, generate, solve, install, lock, smoke)")
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
    p.add_argument("--backend", choices=["rattler", "conda", "mamba", "micromamba"], default="rattler")
    p.add_argument("--dry-run", action="store_true", help="solve and show what would be installed")
    _add_json(p)

    p = sub.add_parser("run", help="run a command inside an environment (with activation)")
    p.add_argument("name", nargs="?", help="environment name")
    p.add_argument("--prefix", metavar="DIR")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")

    p = sub.add_parser("remove", help="remove a created environment")
    p.add_argument("name", nargs="?")
    p.add_argument("--prefix", metavar="DIR")
    _add_json(p)

    p = sub.add_parser("smoke", help="prove an environment works: driver, CUDA, cuDNN, TensorRT, onnxruntime")
    p.add_argument("name", nargs="?")
    p.add_argument("--prefix", metavar="DIR")
    p.add_argument("--python", metavar="EXE", help="run the payload with this Python instead of the prefix's")
    p.add_argument("--model", metavar="FILE.onnx", help="smoke-test this ONNX model")
    p.add_argument("--shape", action="append", default=[], metavar="NAME:1x3x224x224", help="fix a dynamic input shape")
    p.add_argument("--timeout", type=float, default=600.0)
    _add_json(p)

    p = sub.add_parser("check", help="CI pre-check: every environment still resolves and solves, per target")
    p.add_argument("names", nargs="*")
    p.add_argument("--all", action="store_true")
    p.add_argument("--file", action="append", default=[], metavar="ENVIRONMENT.yml")
    p.add_argument("--target", action="append", default=[], metavar="SPEC",
                   help="linux-64, linux-aarch64:cuda=12.4, linux-64:driver=535.104.05, host:FILE")
    p.add_argument("--channel", action="append", default=[], metavar="URL")
    p.add_argument("--junit", metavar="FILE")
    p.add_argument("--offline", action="store_true")
    _add_json(p)

    p = sub.add_parser("mirror-check", help="compare a mirror with upstream for the pinned packages")
    p.add_argument("names", nargs="*")
    p.add_argument("--mirror", metavar="URL")
    p.add_argument("--upstream", metavar="URL")
    _add_json(p)

    p = sub.add_parser("bundle", help="download the locked packages into an offline channel folder")
    p.add_argument("name", nargs="?", help="environment to bundle (not needed with --verify)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--verify", action="store_true", help="re-hash an existing bundle against its manifest (sha256)")
    _add_json(p)
    return parser


def _console(stderr: bool = False) -> Any:
    if stderr:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True)
    from envkit.render import plain_console

    return plain_console()


def _print_error(err: EnvkitError) -> None:
    console = _console(stderr=True)
    console.print(f"[bold red]error:[/] {err.message}", markup=True, highlight=False)
    if err.hint:
        console.print(f"[yellow]hint:[/] {err.hint}", markup=True, highlight=False)


def _print_json(doc: dict[str, Any]) -> None:
    print(json.dumps(doc, indent=2, sort_keys=False))


def _verb_in(argv: Sequence[str]) -> str:
    return next((a for a in argv if a in VERBS), "envkit")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    as_json = "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv
    verb = _verb_in(argv)
    try:
        args = parser.parse_args(argv)
        if not args.verb:
            parser.print_help()
            return int(ExitCode.USAGE)
        verb = args.verb
        as_json = bool(getattr(args, "json", False))
        from envkit.context import Settings

        settings = Settings.from_env(
            project=args.project, matrix=args.matrix, nvidia_smi=getattr(args, "nvidia_smi", None)
        )
        module = importlib.import_module(f"envkit.commands.{VERBS[args.verb]}")
        result = module.run(args, settings)
        if as_json:
            from envkit.output import for_result

            _print_json(for_result(verb, result))
        else:
            result.render(_console())
        return int(result.exit_code)
    except EnvkitError as err:
        if as_json:
            from envkit.output import for_error

            _print_json(for_error(verb, err))
        else:
            _print_error(err)
        return int(err.exit_code)
    except KeyboardInterrupt:
        if as_json:
            from envkit.output import for_interrupt

            _print_json(for_interrupt(verb))
        else:
            print("interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
