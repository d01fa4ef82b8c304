"""Fixtures of the check tests live in tests/check_fixtures.py (shared with tests/commands/test_*check*/bundle)."""

from __future__ import annotations

from check_fixtures import check_channel, project  # noqa: F401
