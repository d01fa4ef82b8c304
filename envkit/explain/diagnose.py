"""From scan hits to diagnoses: facts merged (message, log, machine, environment), questions asked of the
matrix, cause and fixes rendered from the catalogue's templates, ordered answer-first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envkit.explain.catalogue import CERTAINTIES, Catalogue, Entry, template_fields
from envkit.explain.questions import CONTEXT_FACTS, QUESTIONS, Context, Facts

if TYPE_CHECKING:
    from envkit.explain.scan import HitGroup, ScanResult


@dataclass
class Diagnosis:
    id: str
    cls: str
    severity: str
    certainty: str
    title: str
    cause: str
    fixes: list[str]
    facts: dict[str, str]
    lines: list[int]
    quotes: list[str]
    count: int
    sources: list[str]
    entry_file: str = ""
    entry_line: int | None = None
    context: list[str] = field(default_factory=list)  # which context facts were used ("machine", "environment")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "class": self.cls,
            "severity": self.severity,
            "certainty": self.certainty,
            "title": self.title,
            "cause": self.cause,
            "fix": self.fixes,
            "facts": self.facts,
            "lines": self.lines,
            "quotes": self.quotes,
            "count": self.count,
            "sources": self.sources,
            "used": self.context,
        }


def _render(template: str, facts: Facts) -> str | None:
    if any(name not in facts for name in template_fields(template)):
        return None
    return template.format_map(facts)


def _pick(alternatives: tuple[str, ...], facts: Facts) -> str | None:
    for alt in alternatives:
        text = _render(alt, facts)
        if text is not None:
            return text
    return None


def diagnose(scan: ScanResult, catalogue: Catalogue, context_facts: Facts, ctx: Context) -> list[Diagnosis]:
    hit = set(scan.hit_ids())
    out: list[Diagnosis] = []
    for entry in catalogue.entries:
        if entry.id not in hit or any(other in hit for other in entry.unless):
            continue
        for group in _merge_subsets(list(scan.groups[entry.id].values())):
            out.append(_one(entry, group, scan, catalogue, context_facts, ctx))
    if not any(d.severity == "error" for d in out):
        return []  # a warning alone (INT64 weights cast, a linked-vs-loaded note) is part of many good runs
    rank = {c: i for i, c in enumerate(CERTAINTIES)}
    out.sort(key=lambda d: (d.severity != "error", rank.get(d.certainty, 9), d.lines[0] if d.lines else 0))
    return _dedupe(out)


def _merge_subsets(groups: list[HitGroup]) -> list[HitGroup]:
    """A hit whose facts are a subset of another hit's (one error line matched by a pattern with fewer named
    groups) joins that hit."""
    kept: list[HitGroup] = []
    for g in sorted(groups, key=lambda g: -len(g.facts)):
        items = set(g.facts.items())
        into = next((k for k in kept if items <= set(k.facts.items())), None)
        if into is None:
            kept.append(g)
            continue
        into.count += g.count
        merged = sorted(set(zip(into.lines, into.quotes, strict=True)) | set(zip(g.lines, g.quotes, strict=True)))[:3]
        into.lines = [ln for ln, _ in merged]
        into.quotes = [q for _, q in merged]
    return sorted(kept, key=lambda g: g.lines[0] if g.lines else 0)


def _one(entry: Entry, group: HitGroup, scan: ScanResult, catalogue: Catalogue, context_facts: Facts,
         ctx: Context) -> Diagnosis:
    facts: Facts = {**scan.facts, **context_facts, **group.facts}
    answers: Facts = {}
    read: set[str] = set()
    for q in entry.ask:
        recorder = _Recorder(facts)
        for k, v in QUESTIONS[q].func(recorder, ctx).items():
            if k not in facts:
                facts[k] = v
                answers[k] = v
        read |= recorder.read
    cause = _pick(entry.cause, facts) or entry.cause[-1].format_map(_Missing(facts))
    fixes = [text for alts in entry.fix if (text := _pick(alts, facts)) is not None]
    used_names = {n for t in (*entry.cause, *(a for alts in entry.fix for a in alts)) for n in template_fields(t)}
    shown = {**group.facts, **{k: v for k, v in scan.facts.items() if k in used_names}, **answers}
    shown.update({k: v for k, v in context_facts.items() if k in used_names})
    consulted = {k for k in context_facts if k in used_names or (k in read and answers)}
    used = sorted({"machine" if k.startswith("machine_") else "environment" for k in consulted}
                  | ({"matrix"} if answers else set()))
    return Diagnosis(
        id=entry.id, cls=entry.cls, severity=entry.severity, certainty=entry.certainty, title=entry.title,
        cause=" ".join(cause.split()), fixes=[" ".join(f.split()) for f in fixes], facts=shown, lines=list(group.lines),
        quotes=list(group.quotes), count=group.count, sources=catalogue.urls(entry.source),
        entry_file=entry.file, entry_line=entry.line, context=used,
    )


class _Recorder(dict[str, str]):
    """The facts as a question sees them, noting which it read (to report what made a diagnosis specific)."""

    def __init__(self, facts: Facts) -> None:
        super().__init__(facts)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            self.read.add(key)
        return super().get(key, default)


class _Missing(dict[str, str]):
    """format_map mapping: an unknown fact renders as "?" in a cause (fixes are never rendered with gaps)."""

    def __missing__(self, key: str) -> str:
        return "?"


def _dedupe(items: list[Diagnosis]) -> list[Diagnosis]:
    """Groups of one entry whose rendered cause and fixes are identical become one (counts and lines merged)."""
    seen: dict[tuple[str, str, tuple[str, ...]], Diagnosis] = {}
    out: list[Diagnosis] = []
    for d in items:
        key = (d.id, d.cause, tuple(d.fixes))
        prev = seen.get(key)
        if prev is None:
            seen[key] = d
            out.append(d)
            continue
        prev.count += d.count
        merged = sorted(set(zip(prev.lines, prev.quotes, strict=True)) | set(zip(d.lines, d.quotes, strict=True)))[:3]
        prev.lines, prev.quotes = [ln for ln, _ in merged], [q for _, q in merged]
    return out


__all__ = ["CONTEXT_FACTS", "Diagnosis", "diagnose"]
