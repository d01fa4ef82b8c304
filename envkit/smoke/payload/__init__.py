"""The smoke payload: scripts that run INSIDE the environment's own Python, never in envkit's process.

``payload.py`` is started as a script (``python payload.py --config JSON``) by ``envkit.smoke.runner``;
its siblings are imported from this folder. They use only the standard library at top level and
never import envkit: this folder is the boundary between envkit and the environment under test.
"""
