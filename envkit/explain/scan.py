"""Scan a log for the catalogue's patterns in bounded memory and time.

The input is read in blocks of ``BLOCK`` bytes, decoded incrementally (UTF-8, or UTF-16 when it starts with
a byte-order mark: PowerShell's ``>``), cut at the last newline, normalised (CRLF and lone CR to LF, ANSI
colour codes removed) and searched. Every pattern carries a *needle*, its longest literal run (at least 4
characters, checked when the catalogue is loaded): the block is searched for the needle first (a fast
substring search), and the regular expression runs only on the lines around each occurrence. Hits are
grouped per entry and per fact values, with a count and the first line numbers, so a log that repeats one
error a million times still takes bounded memory.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from envkit.errors import InputError

if TYPE_CHECKING:
    from envkit.explain.catalogue import Catalogue

BLOCK = 1 << 20
MAX_PENDING = 4 << 20  # a "line" longer than this is scanned in pieces
CONTEXT_LINES = 3  # lines before and after a needle the pattern may span
MAX_GROUPS = 20  # distinct fact sets kept per entry
MAX_QUOTES = 3  # line numbers quoted per group
MIN_NEEDLE = 4
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]")


class UnreadableInput(InputError):
    """The input is not text (binary) or cannot be read."""


def needle_of(pattern: re.Pattern[str]) -> str | None:
    """The longest literal run every match of ``pattern`` contains, or None (too short / not determinable)."""
    try:
        import re._parser as parser  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse as parser  # type: ignore[no-redef,unused-ignore]
    try:
        tree = parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # the pattern compiled; its parse tree is an implementation detail
        return None
    runs: list[str] = []
    current: list[str] = []

    def walk(items: list[tuple[object, object]]) -> None:
        nonlocal current
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                current.append(chr(int(arg)))  # type: ignore[call-overload]
            elif name == "SUBPATTERN":
                walk(list(arg[-1]))  # type: ignore[index]
            elif name == "AT":
                continue
            else:
                runs.append("".join(current))
                current = []
    walk(list(tree))
    runs.append("".join(current))
    best = max(runs, key=len)
    return best if len(best) >= MIN_NEEDLE else None


@dataclass
class HitGroup:
    entry_id: str
    facts: dict[str, str]
    count: int = 0
    lines: list[int] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


@dataclass
class ScanResult:
    lines: int = 0
    bytes: int = 0
    encoding: str = "utf-8"
    groups: dict[str, dict[tuple[tuple[str, str], ...], HitGroup]] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    fact_lines: dict[str, int] = field(default_factory=dict)

    def hit_ids(self) -> list[str]:
        return [k for k, v in self.groups.items() if v]


@dataclass(frozen=True)
class _Probe:
    owner: str  # entry id, or "fact:NAME"
    pattern: re.Pattern[str]
    needle: str
    icase: bool
    types: tuple[tuple[str, str], ...]


class Scanner:
    """The catalogue compiled for scanning; reusable across inputs."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.probes: list[_Probe] = []
        for e in catalogue.entries:
            for p in e.patterns:
                self.probes.append(_probe(e.id, p, tuple(e.fact_types.items())))
        for f in catalogue.facts:
            self.probes.append(_probe(f"fact:{f.name}", f.pattern, ((f.name, f.type),)))
        self.any_icase = any(p.icase for p in self.probes)

    def scan(self, stream: BinaryIO, *, limit: int | None = None) -> ScanResult:
        res = ScanResult()
        first = stream.read(BLOCK)
        if not first:
            return res
        encoding, skip = _encoding(first)
        res.encoding = encoding
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        pending = ""
        block: bytes = first[skip:]
        total = len(first)
        while True:
            text = pending + decoder.decode(block, final=not block)
            cut = text.rfind("\n") + 1
            if cut == 0 and len(text) < MAX_PENDING and block:
                pending = text
            else:
                if cut == 0:
                    cut = len(text)
                self._scan_text(text[:cut], res)
                pending = text[cut:]
            if not block:
                break
            if limit is not None and total >= limit:
                block = b""
                continue
            block = stream.read(BLOCK)
            total += len(block)
        if pending:
            self._scan_text(pending + "\n", res)
        res.bytes = total
        return res

    def _scan_text(self, raw: str, res: ScanResult) -> None:
        text = raw.replace("\r\n", "\n").replace("\r", "\n")
        if "\x1b" in text:
            text = _ANSI.sub("", text)
        lowered = text.lower() if self.any_icase else text
        base = res.lines
        for probe in self.probes:
            if probe.owner.startswith("fact:") and probe.owner[5:] in res.facts:
                continue
            hay = lowered if probe.icase else text
            if probe.needle not in hay:
                continue
            self._run_probe(probe, text, hay, base, res)
        res.lines = base + text.count("\n")

    def _run_probe(self, probe: _Probe, text: str, hay: str, base: int, res: ScanResult) -> None:
        pos = 0
        counted_at, counted_lines = 0, 0
        seen_end = -1
        while True:
            idx = hay.find(probe.needle, pos)
            if idx < 0:
                return
            start = idx
            for _ in range(CONTEXT_LINES):
                start = text.rfind("\n", 0, max(start - 1, 0)) + 1 if start > 0 else 0
            end = idx
            for _ in range(CONTEXT_LINES + 1):
                nxt = text.find("\n", end + 1)
                end = len(text) if nxt < 0 else nxt
            start = max(start, seen_end)
            for m in probe.pattern.finditer(text, start, end):
                if m.start() < seen_end:
                    continue
                counted_lines += text.count("\n", counted_at, m.start())
                counted_at = m.start()
                self._record(probe, m, base + counted_lines + 1, text, res)
                seen_end = m.end()
                if probe.owner.startswith("fact:"):
                    return
            pos = max(end, idx + 1)

    def _record(self, probe: _Probe, m: re.Match[str], line: int, text: str, res: ScanResult) -> None:
        from envkit.explain.questions import normalise

        types = dict(probe.types)
        facts: dict[str, str] = {}
        for name, value in m.groupdict().items():
            if value is None:
                continue
            norm = normalise(types.get(name, "text"), value)
            if norm is not None:
                facts[name] = norm
        if probe.owner.startswith("fact:"):
            name = probe.owner[5:]
            if name in facts:
                res.facts[name] = facts[name]
                res.fact_lines[name] = line
            return
        groups = res.groups.setdefault(probe.owner, {})
        key = tuple(sorted(facts.items()))
        group = groups.get(key)
        if group is None:
            if len(groups) >= MAX_GROUPS:
                group = next(iter(groups.values()))
            else:
                group = groups[key] = HitGroup(probe.owner, facts)
        group.count += 1
        if len(group.lines) < MAX_QUOTES:
            ls = text.rfind("\n", 0, m.start()) + 1
            le = text.find("\n", m.end() - 1 if m.end() > m.start() else m.end())
            quote = text[ls: le if le >= 0 else len(text)]
            group.lines.append(line)
            group.quotes.append(" ".join(quote.split())[:400])


def _probe(owner: str, pattern: re.Pattern[str], types: tuple[tuple[str, str], ...]) -> _Probe:
    needle = needle_of(pattern)
    icase = bool(pattern.flags & re.IGNORECASE)
    if needle is None:
        raise InputError(f"pattern {pattern.pattern!r} of {owner} has no literal run of {MIN_NEEDLE}+ characters",
                         "big logs are searched by a pattern's literal text first; add a fixed phrase")
    return _Probe(owner, pattern, needle.lower() if icase else needle, icase, types)


def _encoding(first: bytes) -> tuple[str, int]:
    if first.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if first.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if first.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    head = first[:8192]
    if b"\x00" in head:
        raise UnreadableInput("the input is binary, not a log (it contains NUL bytes)",
                              "give the text output of the failing command (a log, a traceback, pasted output)")
    return "utf-8", 0
