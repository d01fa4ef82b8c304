"""``envkit explain [FILE | -] [NAME | --prefix DIR] [--host CAPTURE] [--json]`` and ``envkit explain -- CMD ...``.

Reads a log (a file, or standard input), finds every failure the catalogue knows and says for each what
failed (quoted line numbers), why, the fix and how sure envkit is. Exit 1 when at least one diagnosis, 0
when none, 2 when the input cannot be read (missing, a directory, not a regular file, binary).

With ``-- CMD ...`` the command runs (an argv list, never a shell), its output streams through unchanged,
and when it fails the diagnosis follows; the exit code is the command's.

Facts: ``--host CAPTURE`` (or, for ``-- CMD`` and a named environment, this machine, probed) and the
environment (``NAME`` or ``--prefix``: its record and last smoke report) make the diagnoses specific.
A pasted log of another machine is never mixed with this machine's facts unless ``--probe`` asks for it.
"""

from __future__ import annotations

import argparse
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from envkit.context import Settings
from envkit.errors import ExitCode, InputError
from envkit.result import Message, notes

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.explain import Explanation
    from envkit.explain.catalogue import Catalogue
    from envkit.matrix.model import Matrix

_ICON = {"certain": "certain", "likely": "likely", "possible": "possible"}
_COLOR = {"certain": "red", "likely": "yellow", "possible": "cyan"}


@dataclass
class ExplainResult:
    explanation: Explanation | None
    source: str
    context: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    command_exit: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def diagnoses(self) -> list[Any]:
        return self.explanation.diagnoses if self.explanation is not None else []

    @property
    def exit_code(self) -> int:
        if self.command is not None:
            return int(self.command_exit or 0)
        return int(ExitCode.FINDINGS if self.diagnoses else ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = self.explanation.to_json() if self.explanation is not None else {
            "schema": "envkit.explain/1", "diagnoses": []}
        out["source"] = self.source
        out["context"] = self.context
        if self.command is not None:
            out["command"] = {"argv": self.command, "exit_code": self.command_exit}
        return out

    def messages(self) -> list[Message]:
        return notes(self.notes)

    def render(self, console: Console) -> None:
        for note in self.notes:
            console.print(f"note: {note}", highlight=False, markup=False)
        if self.command is not None and self.command_exit == 0:
            return
        ds = self.diagnoses
        if not ds:
            what = f"exit code {self.command_exit}" if self.command is not None else self.source
            console.print(f"envkit explain: no known failure in {what}", highlight=False, markup=False)
            return
        head = f"envkit explain: {len(ds)} diagnos{'is' if len(ds) == 1 else 'es'} in {self.source}"
        console.print(head, style="bold", highlight=False, markup=False)
        for i, d in enumerate(ds, 1):
            render_diagnosis(console, d, i)


def render_diagnosis(console: Console, d: Any, index: int | None = None, *, line_numbers: bool = True) -> None:
    """One diagnosis, answer first: what failed, the cause, the fixes, the quoted lines, the source."""
    from rich.text import Text

    num = f"{index}. " if index is not None else ""
    title = Text(f"{num}[{d.certainty}] ", style=_COLOR.get(d.certainty, ""))
    title.append(f"{d.title}", style="bold")
    title.append(f"  ({d.cls}{', warning' if d.severity == 'warning' else ''})")
    console.print(title)
    console.print(Text("   cause: ") + Text(d.cause))
    for f in d.fixes:
        console.print(Text("   fix:   ", style="green") + Text(f))
    times = f" ({d.count} times in all)" if d.count > len(d.lines) else ""
    for line, quote in zip(d.lines, d.quotes, strict=False):
        where = f"   line {line}{times}: " if line_numbers else "   from: "
        console.print(Text(where, style="dim") + Text(quote, style="dim"))
        times = ""
    if d.sources:
        console.print(Text(f"   source: {d.sources[0]}", style="dim"))


def run(args: argparse.Namespace, settings: Settings) -> Any:
    if getattr(args, "check_catalogue", False):
        return check_catalogue(settings)
    from envkit.explain import default_catalogue

    catalogue = default_catalogue(settings.project_dir, settings.env)
    cmd = list(getattr(args, "cmd", None) or [])
    name, prefix = _env_args(args, command=bool(cmd))
    probe_here = bool(cmd) or bool(name or prefix) or bool(getattr(args, "probe", False))
    context, notes = gather_context(settings, host_file=getattr(args, "host", None), probe=probe_here,
                                    name=name, prefix=prefix)
    if cmd:
        return _run_command(cmd, catalogue, context, notes, settings, as_json=bool(getattr(args, "json", False)))
    source, stream = _open_input(getattr(args, "input", None))
    try:
        explanation = _explain(stream, catalogue, context, settings)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    return ExplainResult(explanation, source, context, notes=notes)


def _env_args(args: argparse.Namespace, *, command: bool) -> tuple[str | None, str | None]:
    name = getattr(args, "name", None)
    if command and getattr(args, "input", None):  # `envkit explain NAME -- CMD`
        if name:
            raise InputError("with -- CMD give at most one environment NAME before --")
        name = args.input
    return name, getattr(args, "prefix", None)


def _open_input(path: str | None) -> tuple[str, BinaryIO]:
    if path in (None, "-"):
        if path is None and sys.stdin.isatty():
            raise InputError("nothing to explain", hint="envkit explain FILE | cmd 2>&1 | envkit explain - | "
                             "envkit explain -- CMD ARGS")
        return "standard input", sys.stdin.buffer
    p = Path(path).expanduser()
    usage = ("envkit explain FILE [NAME] | cmd 2>&1 | envkit explain - [NAME] | envkit explain [NAME] -- CMD ARGS "
             "(the log comes first, the environment second)")
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("file not found", usage, file=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", usage, file=str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, expected a log file", usage, file=str(p))
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file", file=str(p), hint=f"pipe it instead: cat {path} | envkit explain -")
    try:
        return str(p), p.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", usage, file=str(p)) from None


def _matrix_loader(settings: Settings) -> Any:
    def load() -> Matrix | None:
        from envkit.errors import EnvkitError
        from envkit.matrix.load import load_for

        try:
            return load_for(settings)
        except EnvkitError:
            return None
    return load


def _explain(stream: BinaryIO, catalogue: Catalogue, context: dict[str, str], settings: Settings) -> Explanation:
    from envkit.explain import explain_stream

    return explain_stream(stream, catalogue=catalogue, context_facts=context, matrix_loader=_matrix_loader(settings))


def gather_context(settings: Settings, *, host_file: str | None, probe: bool, name: str | None,
                   prefix: str | None) -> tuple[dict[str, str], list[str]]:
    """Machine facts (``--host`` capture, or this machine when ``probe``) and environment facts."""
    from envkit.explain.context import environment_facts, machine_facts

    facts: dict[str, str] = {}
    notes: list[str] = []
    if host_file:
        from envkit.host.parse import read_capture

        facts.update(machine_facts(read_capture(host_file)))
    elif probe:
        from envkit.host.probe import probe as probe_host

        info = probe_host(settings, system_facts=False)
        facts.update(machine_facts(info))
    if prefix or name:
        if prefix:
            p = Path(prefix).expanduser()
            if not p.is_dir():
                raise InputError(f"no such directory: {p}", key="--prefix")
            ref = str(p.resolve())
        else:
            from envkit.envs import find_env

            p = find_env(str(name), settings)
            ref = str(name)
        facts.update(environment_facts(p, ref))
    return facts, notes


def _run_command(cmd: list[str], catalogue: Catalogue, context: dict[str, str], notes: list[str],
                 settings: Settings, *, as_json: bool) -> ExplainResult:
    """Run CMD, pass its output through (to stderr with --json, so stdout stays one JSON record)."""
    from envkit.proc import stream

    out = sys.stderr.buffer if as_json else sys.stdout.buffer
    with tempfile.TemporaryFile(prefix="envkit-explain-") as spool:
        def echo(chunk: bytes) -> None:
            out.write(chunk)
            out.flush()

        res = stream(cmd, [echo, spool.write])
        if res.not_found:
            raise InputError(f"command not found: {cmd[0]}", key="--", hint="give the program and its arguments after --")
        if res.error:
            raise InputError(f"cannot run {cmd[0]}: {res.error}", key="--")
        source = "the output of `" + " ".join(cmd)[:200] + "`"
        explanation = None
        if res.exit_code != 0:
            spool.seek(0)
            explanation = _explain(spool, catalogue, context, settings)
    return ExplainResult(explanation, source, context, command=cmd, command_exit=res.exit_code, notes=notes)


@dataclass
class CatalogueCheck:
    catalogue: Catalogue

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK)

    def messages(self) -> list[Message]:
        return notes(self.catalogue.notes)

    def to_json(self) -> dict[str, Any]:
        c = self.catalogue
        return {
            "schema": "envkit.explain.catalogue/1",
            "catalogue_version": c.version,
            "files": c.files,
            "entries": len(c.entries),
            "classes": {k: sum(1 for e in c.entries if e.cls == k) for k in c.classes},
            "ok": True,
        }

    def render(self, console: Console) -> None:
        c = self.catalogue
        per = ", ".join(f"{k} {n}" for k, n in self.to_json()["classes"].items())
        console.print(f"catalogue {c.version}: {len(c.entries)} entries ({per}) from {', '.join(c.files)}: ok",
                      highlight=False, markup=False)
        for note in c.notes:
            console.print(f"note: {note}", highlight=False, markup=False)


def check_catalogue(settings: Settings) -> CatalogueCheck:
    from envkit.explain.catalogue import load_catalogue

    return CatalogueCheck(load_catalogue(settings.project_dir, settings.env))


__all__ = ["CatalogueCheck", "ExplainResult", "render_diagnosis", "run"]


# -- explaining another verb's failure (create, smoke): called by envkit.cli -------------------------

EXPLAINED_VERBS = ("create", "smoke")


def _strings(value: Any, out: list[str], depth: int = 0) -> None:
    if depth > 8 or len(out) > 2000:
        return
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out, depth + 1)


def failure_text(failure: Any) -> str:
    """The text of a failed verb: an EnvkitError's message and hint, or the strings of a failed result's
    record (a smoke report's failed layers)."""
    from envkit.errors import EnvkitError

    if isinstance(failure, EnvkitError):
        return f"{failure.message}\n{failure.hint or ''}"
    data = failure.to_json() if hasattr(failure, "to_json") else {}
    layers = data.get("layers") if isinstance(data, dict) else None
    if isinstance(layers, list):
        data = [lay for lay in layers if isinstance(lay, dict) and lay.get("status") == "fail"]
    found: list[str] = []
    _strings(data, found)
    return "\n".join(found)


def explain_failed(failure: Any, settings: Settings | None) -> list[Any]:
    """Error diagnoses of a failed create/smoke (empty when nothing matches; never raises)."""
    from envkit.explain import explain_failure

    return explain_failure(failure_text(failure), settings.matrix_path if settings else None,
                           settings.project_dir if settings else None)


def diagnosis_message(d: Any) -> Message:
    """A diagnosis as a note of the JSON envelope (the fixes in its hint)."""
    return Message("note", f"explain: [{d.certainty}] {d.title}: {d.cause}", "; ".join(d.fixes) or None, d.id)


def append_diagnoses(verb: str, failure: Any, settings: Settings | None, doc: Any = None,
                     console: Console | None = None) -> Any:
    """For envkit.cli: when ``verb`` is create or smoke and failed (an error, or a result with a non-zero exit
    code), its diagnoses are appended to the JSON envelope ``doc`` as notes, or printed on ``console``."""
    from envkit.errors import EnvkitError

    if verb not in EXPLAINED_VERBS or (not isinstance(failure, EnvkitError) and not failure.exit_code):
        return doc
    diagnoses = explain_failed(failure, settings)
    if diagnoses and doc is not None:
        doc["messages"].extend(diagnosis_message(d).to_json() for d in diagnoses)
    elif diagnoses and console is not None:
        console.print("envkit explain:", style="bold", highlight=False, markup=False)
        for i, d in enumerate(diagnoses, 1):
            render_diagnosis(console, d, i, line_numbers=False)
    return doc
