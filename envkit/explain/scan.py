"""Scan a log for the catalogue's patterns in bounded memory and time.

The input is read in blocks of ``BLOCK`` bytes (UTF-8 as bytes; UTF-16 with a byte-order mark, as
PowerShell's ``>`` writes, is decoded and re-encoded), cut at the last newline, normalised (CRLF and lone
CR to LF, ANSI colour codes removed) and searched. Every pattern carries a *needle*, its longest literal
run (at least 4 characters, checked when the catalogue is loaded): one Aho-Corasick pass over the block
finds every needle at once, and a pattern's regular expression runs only on the lines around its
needle's hits (decoded with replacement, so invalid UTF-8 never stops a scan). Hits are
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
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]")


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
    types: tuple[tuple[str, str], ...]


class Scanner:
    """The catalogue compiled for scanning: one Aho-Corasick automaton over every pattern's needle
    (ahocorasick_rs, one pass over the bytes), then each pattern only on the lines around its needle."""

    def __init__(self, catalogue: Catalogue) -> None:
        import ahocorasick_rs

        self.catalogue = catalogue
        self.probes: list[_Probe] = []
        for e in catalogue.entries:
            for p in e.patterns:
                self.probes.append(_probe(e.id, p, tuple(e.fact_types.items())))
        for f in catalogue.facts:
            self.probes.append(_probe(f"fact:{f.name}", f.pattern, ((f.name, f.type),)))
        needles = sorted({p.needle for p in self.probes})
        self.by_needle: list[list[int]] = [[i for i, p in enumerate(self.probes) if p.needle == n] for n in needles]
        self.automaton = ahocorasick_rs.BytesAhoCorasick([n.encode("utf-8") for n in needles])

    def scan(self, stream: BinaryIO, *, limit: int | None = None) -> ScanResult:
        res = ScanResult()
        first = stream.read(BLOCK)
        if not first:
            return res
        encoding, skip = _encoding(first)
        res.encoding = encoding
        decoder = None if encoding == "utf-8" else codecs.getincrementaldecoder(encoding)(errors="replace")
        pending = b""
        block: bytes = first[skip:]
        total = len(first)
        while True:
            data = block if decoder is None else decoder.decode(block, final=not block).encode("utf-8")
            buf = pending + data
            cut = buf.rfind(b"\n") + 1
            if cut == 0 and len(buf) < MAX_PENDING and block:
                pending = buf
            else:
                cut = cut or len(buf)
                self._scan_block(buf[:cut], res)
                pending = buf[cut:]
            if not block:
                break
            block = b"" if limit is not None and total >= limit else stream.read(BLOCK)
            total += len(block)
        if pending:
            self._scan_block(pending + b"\n", res)
        res.bytes = total
        return res

    def _scan_block(self, raw: bytes, res: ScanResult) -> None:
        data = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\x1b" in data:
            data = _ANSI.sub(b"", data)
        base = res.lines
        counted_at, counted = 0, 0
        seen: set[tuple[str, int]] = set()  # (entry, line): two patterns of one entry on one line are one hit
        for start, end, probes in self._windows(data, res):
            counted += data.count(b"\n", counted_at, start)
            counted_at = start
            text = data[start:end].decode("utf-8", "replace")
            for i in sorted(probes):
                probe = self.probes[i]
                if probe.owner.startswith("fact:") and probe.owner[5:] in res.facts:
                    continue
                at, lines = 0, 0
                for m in probe.pattern.finditer(text):
                    lines += text.count("\n", at, m.start())
                    at = m.start()
                    line = base + counted + lines + 1
                    if (probe.owner, line) in seen:
                        continue
                    seen.add((probe.owner, line))
                    self._record(probe, m, line, text, res)
                    if probe.owner.startswith("fact:"):
                        break
        res.lines = base + data.count(b"\n")

    def _live(self, needle: int, res: ScanResult) -> bool:
        """A needle is worth a window unless all its probes are log-wide facts already read."""
        return any(not self.probes[i].owner.startswith("fact:") or self.probes[i].owner[5:] not in res.facts
                   for i in self.by_needle[needle])

    def _windows(self, data: bytes, res: ScanResult) -> list[tuple[int, int, set[int]]]:
        """Merged byte ranges (CONTEXT_LINES around each needle hit) with the probes to run in each."""
        hits = self.automaton.find_matches_as_indexes(data, overlapping=True)
        live = {n for n in {h[0] for h in hits} if self._live(n, res)}
        out: list[tuple[int, int, set[int]]] = []
        for needle, pos, _end in sorted((h for h in hits if h[0] in live), key=lambda h: h[1]):
            end = pos
            for _ in range(CONTEXT_LINES + 1):
                nxt = data.find(b"\n", end + 1)
                end = len(data) if nxt < 0 else nxt
            if out and pos < out[-1][1]:  # inside the current window: it grows, its probes join
                out[-1] = (out[-1][0], max(out[-1][1], end), out[-1][2])
                out[-1][2].update(self.by_needle[needle])
                continue
            start = pos
            for _ in range(CONTEXT_LINES + 1):
                start = data.rfind(b"\n", 0, max(start - 1, 0)) + 1 if start > 0 else 0
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end), out[-1][2] | set(self.by_needle[needle]))
            else:
                out.append((start, end, set(self.by_needle[needle])))
        return out

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
    if needle is None:
        raise InputError(f"pattern {pattern.pattern!r} of {owner} has no literal run of {MIN_NEEDLE}+ characters",
                         "big logs are searched by a pattern's literal text first; add a fixed phrase")
    return _Probe(owner, pattern, needle, types)


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
