"""The check channel (tests/check_fixtures.py) serves the repodata tests too."""

from __future__ import annotations

from check_fixtures import check_channel  # noqa: F401
