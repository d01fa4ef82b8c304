"""``envkit completion bash|zsh|fish``: the shell completion script, generated from envkit's own parser by shtab.

Verbs and options come from the parser; profile names (``resolve``, ``generate``, ``create``, ``check``) and
environment names (``run``, ``smoke``, ``shell`` ...) are completed at TAB time by
``envkit completion --list profiles|environments`` (one name a line, nothing else).

Install: bash ``eval "$(envkit completion bash)"`` in ~/.bashrc; zsh ``envkit completion zsh > ~/.zfunc/_envkit``
(with ``fpath+=~/.zfunc; autoload -U compinit; compinit``); fish
``envkit completion fish > ~/.config/fish/completions/envkit.fish``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envkit.errors import InputError
from envkit.result import Message

if TYPE_CHECKING:
    from rich.console import Console

    from envkit.context import Settings

# positional "name" arguments: which names complete them
PROFILE_VERBS = ("resolve", "generate", "create", "check", "mirror-check", "bundle")
ENV_VERBS = ("run", "remove", "smoke", "shell", "shell-hook", "packages", "export", "update", "list")

PREAMBLE = {
    "bash": """
_envkit_profiles() { compgen -W "$(envkit completion --list profiles 2>/dev/null)" -- "$1"; }
_envkit_environments() { compgen -W "$(envkit completion --list environments 2>/dev/null)" -- "$1"; }
""",
    "zsh": """
_envkit_profiles() { local -a names; names=(${(f)"$(envkit completion --list profiles 2>/dev/null)"}); compadd -a names; }
_envkit_environments() { local -a names; names=(${(f)"$(envkit completion --list environments 2>/dev/null)"}); compadd -a names; }
""",
}
ACTIONS = {
    "profiles": {"bash": "_envkit_profiles", "zsh": "_envkit_profiles", "fish": "(envkit completion --list profiles)"},
    "environments": {"bash": "_envkit_environments", "zsh": "_envkit_environments",
                     "fish": "(envkit completion --list environments)"},
}


@dataclass
class TextResult:
    text: str
    exit_code: int = 0

    def messages(self) -> list[Message]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text}

    def render(self, console: Console) -> None:
        console.out(self.text, end="", highlight=False)


def _annotate(parser: argparse.ArgumentParser) -> None:
    """Attach shtab's ``complete`` to the NAME positionals of the verbs."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for verb, sub in action.choices.items():
            kind = "profiles" if verb in PROFILE_VERBS else "environments" if verb in ENV_VERBS else None
            for a in sub._actions:
                if kind and not a.option_strings and a.dest in ("name", "names"):
                    a.complete = ACTIONS[kind]


def script(shell: str) -> str:
    import shtab

    from envkit.cli import build_parser

    parser = build_parser()
    _annotate(parser)
    return shtab.complete(parser, shell=shell, preamble=PREAMBLE.get(shell, ""))


def names(kind: str, settings: Settings) -> list[str]:
    if kind == "profiles":
        from envkit.profile import profile_paths

        return list(profile_paths(settings))
    from envkit.envs import list_envs

    return sorted({e.name for e in list_envs(settings) if e.state != "gone"})


def run(args: argparse.Namespace, settings: Settings) -> TextResult:
    kind = getattr(args, "list", None)
    if kind:
        return TextResult("".join(f"{n}\n" for n in names(kind, settings)))
    shell = getattr(args, "shell", None)
    if not shell:
        raise InputError("name a shell: envkit completion bash|zsh|fish")
    return TextResult(script(shell))
