"""Alembic environment for the workbench store.

``Store()`` runs migrations itself, handing over an open connection (inside the
transaction that holds the migration lock) through ``config.attributes["connection"]``.

To write a new revision (from the repository root), bring a scratch store to head, then
let Alembic compare it with the models::

    export WORKBENCH_DB_URL=sqlite:////tmp/wb-dev.db
    alembic -c workbench/core/migrations/alembic.ini upgrade head
    alembic -c workbench/core/migrations/alembic.ini revision --autogenerate -m "what changed"

Then review the file, bump ``SCHEMA_HEAD`` in the store module, and add a test.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None:  # the alembic command line, not Store()
    fileConfig(config.config_file_name)


def _url() -> str:
    url = os.environ.get("WORKBENCH_DB_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set WORKBENCH_DB_URL to the store to migrate")
    return url


def _target_metadata():
    metadata = config.attributes.get("target_metadata")
    if metadata is None:  # the alembic command line: import the models
        from workbench.core.store import Base

        metadata = Base.metadata
    return metadata


def _include_name(name, type_, parent_names) -> bool:
    # Other tables share the database (APScheduler's job store): never touch them.
    if type_ == "table":
        return name in _target_metadata().tables
    return True


def _configure(**kwargs) -> None:
    context.configure(target_metadata=_target_metadata(), include_name=_include_name,
                      render_as_batch=True,  # SQLite alters tables by copying them
                      compare_type=True, **kwargs)


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
