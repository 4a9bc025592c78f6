"""Whole-pool jobs on Ray Data: screen every image of a pool, judge every pair of a set (the ``pool`` extra).

>>> from creative4u.pool.sources import is_url
>>> is_url("https://cdn.example.com/a.jpg")
True

Modules: :mod:`~creative4u.pool.sources` (what SRC names: folder, glob, JSONL, Parquet/CSV),
:mod:`~creative4u.pool.store` (the output folder: atomic Parquet parts, resume by content hash),
:mod:`~creative4u.pool.cluster` (join or start Ray), :mod:`~creative4u.pool.screen` (the check suite in an actor
pool, rows equal to ``creative4u check --json``), :mod:`~creative4u.pool.judge` (pairs judged as ``select`` judges
them). Deployment on a cluster: ``serve/POOL.md``. Nothing outside the CLI imports this wing, and this
``__init__`` imports nothing heavy, so ``creative4u --help`` stays instant.
"""
