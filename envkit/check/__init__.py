"""``envkit check`` / ``mirror-check`` / ``bundle``: CI pre-checks that need no GPU and install nothing.

Modules: ``targets`` (target specs), ``repodata`` (fetch-once, on-disk cached repodata and pip index
pages), ``steps`` (the five checks per environment and target), ``junit`` (the JUnit report),
``mirror`` (mirror against upstream), ``bundle`` (offline channel folders).
"""
