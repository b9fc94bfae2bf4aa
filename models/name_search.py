"""SQLite's index of subscriber names by trigrams (FTS5), for the staff search.

No B-tree finds a part of a name, so without it every rare name search read all the
subscribers. PostgreSQL has pg_trgm (models/subscribers.py). The index holds no copy of
the names (an external-content table over `subscribers`); triggers keep it in step
with every insert, name change and delete, whoever makes them. A migration that rebuilds
`subscribers` (Alembic's batch mode on SQLite) drops its triggers: it must make them again
(tests/test_migrations.py compares the migrated schema's with the models').
"""

from sqlalchemy import DDL, Integer, column, event, select, table

from models.subscribers import Subscriber

NAME_SEARCH_TABLE = "subscriber_name_search"

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE subscriber_name_search USING fts5("
    "full_name, content='subscribers', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER subscribers_name_search_insert AFTER INSERT ON subscribers BEGIN "
    "INSERT INTO subscriber_name_search (rowid, full_name) VALUES (new.id, new.full_name); END",
    "CREATE TRIGGER subscribers_name_search_update AFTER UPDATE OF full_name ON subscribers "
    "WHEN old.full_name IS NOT new.full_name BEGIN "
    "INSERT INTO subscriber_name_search (subscriber_name_search, rowid, full_name) "
    "VALUES ('delete', old.id, old.full_name); "
    "INSERT INTO subscriber_name_search (rowid, full_name) VALUES (new.id, new.full_name); END",
    "CREATE TRIGGER subscribers_name_search_delete AFTER DELETE ON subscribers BEGIN "
    "INSERT INTO subscriber_name_search (subscriber_name_search, rowid, full_name) "
    "VALUES ('delete', old.id, old.full_name); END",
]
# Trigrams: a name part shorter than this finds nothing in the index.
SHORTEST_INDEXED_QUERY = 3

for statement in SQLITE_DDL:
    event.listen(Subscriber.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
# Its triggers go with the table; the index must go too, or the table cannot be made again.
event.listen(Subscriber.__table__, "before_drop",
             DDL(f"DROP TABLE IF EXISTS {NAME_SEARCH_TABLE}").execute_if(dialect="sqlite"))

_NAME_SEARCH = table(NAME_SEARCH_TABLE, column("rowid", Integer), column(NAME_SEARCH_TABLE))


def names_containing(query: str):
    """The ids of subscribers whose name contains `query`, and perhaps a few more: the
    index folds case over all of Unicode, where SQLite's LIKE folds ASCII only."""
    phrase = '"' + query.replace('"', '""') + '"'  # one FTS5 string: its own syntax is not interpreted
    return select(_NAME_SEARCH.c.rowid).where(_NAME_SEARCH.c[NAME_SEARCH_TABLE].op("MATCH")(phrase))


def made_by_models(name: str | None, type_: str, parent_names: dict) -> bool:
    """For Alembic's comparisons: the index's tables (FTS5 makes several) are not models."""
    return not (type_ == "table" and name is not None and name.startswith(NAME_SEARCH_TABLE))
