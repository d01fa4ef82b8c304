"""The ``envkit`` command line: parse, dispatch to one module per verb, render, exit.

This is the only module that prints or exits. Verbs live in ``envkit.commands.<verb>``
and are imported only when called, so ``envkit --help`` stays instant.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from envkit.errors import EnvkitError, ExitCode, UsageError
from envkit.parser import build_parser

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
    "shell": "shell",
    "shell-hook": "shell_hook",
    "packages": "packages",
    "export": "export",
    "init": "init",
    "completion": "completion",
    "clean": "clean",
    "update": "update",
    "remove": "remove",
    "smoke": "smoke",
    "libs": "libs",
    "check": "check",
    "mirror-check": "mirror_check",
    "bundle": "bundle",
    "explain": "explain",
}

EXPLAINED_VERBS = ("create", "smoke")  # = envkit.commands.explain.EXPLAINED_VERBS (tests/test_imports_per_verb.py)


def _split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``envkit [options] explain ... -- CMD ARGS``: the part to parse, and the command after ``--``."""
    if _verb_in(argv) == "explain" and "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, None


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


def _explained(verb: str, failure: Any, settings: Any, doc: Any = None, console: Any = None) -> Any:
    """A failed create or smoke: explain's diagnoses appended to its JSON envelope, or printed after it."""
    if verb not in EXPLAINED_VERBS:  # the other verbs do not import explain at all
        return doc
    from envkit.commands.explain import append_diagnoses

    return append_diagnoses(verb, failure, settings, doc, console)


def _verb_in(argv: Sequence[str]) -> str:
    return next((a for a in argv if a in VERBS), "envkit")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    as_json = "--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv
    verb = _verb_in(argv)
    settings: Any = None
    try:
        to_parse, command = _split_command(argv)
        args = parser.parse_args(to_parse)
        if command is not None:
            if not command:
                raise UsageError("explain --: give the command to run after --", "envkit explain -- CMD ARGS")
            args.cmd = command
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

            _print_json(_explained(verb, result, settings, doc=for_result(verb, result)))
        else:
            result.render(console := _console())
            _explained(verb, result, settings, console=console)
        return int(result.exit_code)
    except EnvkitError as err:
        if as_json:
            from envkit.output import for_error

            _print_json(_explained(verb, err, settings, doc=for_error(verb, err)))
        else:
            _print_error(err)
            _explained(verb, err, settings, console=_console(stderr=True))
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
