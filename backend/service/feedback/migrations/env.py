"""Alembic's environment for the feedback schema: run on the connection that FeedbackStore.migrate() passes in.

There is no alembic.ini: store.py builds the Config in code, so the same migrations run at the
service's first use of the database and in the tests.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table=context.config.get_main_option("version_table") or "alembic_version",
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
