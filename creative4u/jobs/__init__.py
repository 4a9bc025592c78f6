"""Screening jobs: a durable job store, workers with leases, per-client settings and signed webhook callbacks.

>>> from creative4u.jobs.settings import JobsConfig
>>> JobsConfig().store
'sqlite:///creative4u-jobs.db'

Modules: :mod:`~creative4u.jobs.settings` (the YAML config: store, limits, clients, webhooks),
:mod:`~creative4u.jobs.store` (SQLAlchemy schema on SQLite or PostgreSQL, leases, deliveries),
:mod:`~creative4u.jobs.service` (validation, per-client pipelines, JSON views), :mod:`~creative4u.jobs.worker`,
:mod:`~creative4u.jobs.webhooks` (Standard Webhooks signing, URL checks, retries), :mod:`~creative4u.jobs.api`
(the ``/v1/jobs`` routes attached to the gateway), :mod:`~creative4u.jobs.testing` (a PostgreSQL server and a
webhook receiver for tests and benchmarks). Nothing outside the CLI imports this wing. This package's
``__init__`` imports nothing heavy, so ``creative4u --help`` stays instant.
"""
