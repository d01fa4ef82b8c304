"""``envkit create`` as a package.

* ``model``: ``CreateRequest`` and ``CreateResult``, the one model everything below shares;
* ``pipeline``: ``create_env`` (machine, environment file, target path, channels, up to date?);
* ``steps``: one function per build step over the ``Build`` context (solve or read the lock,
  install into staging, pip, fix-ups, smoke, commit, swap);
* ``staging``: the staging prefix, the environment's lock, the atomic swap and its recovery;
* ``pipstep``: the ``pip:`` section with the environment's Python; ``trt_fixup``: the TensorRT
  bindings fix-up that follows it;
* ``record``: ``conda-meta/envkit.json`` (``EnvRecord``: one writer, one reader, versioned);
  ``commit``: the lock files and ``conda-meta/history``;
* ``backends``: conda / mamba / micromamba as programs (they depend on ``model``, ``record`` and
  ``staging`` only).

Imports run one way: pipeline -> steps -> (pipstep <- trt_fixup, staging, commit, record) -> model.
Nothing is imported here, so ``envkit.create.record`` stays cheap for its readers.
"""
