"""The subscribe baseline: a bare Flask app that checks the address with a regex and
commits one subscriber row and one outbox row through the raw driver."""

import os
import re
import sqlite3
import threading

from flask import Flask, redirect, request

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATABASE = os.environ["BASELINE_DATABASE"]  # a sqlite file path or a postgresql:// URL
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS baseline_subscribers (id {pk}, email VARCHAR(320) UNIQUE NOT NULL, "
    "full_name VARCHAR(200) NOT NULL, created_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS baseline_outbox (id {pk}, recipient VARCHAR(320) NOT NULL, "
    "body TEXT NOT NULL, created_at TIMESTAMP NOT NULL)",
]
local = threading.local()
app = Flask(__name__)


def connection():
    if not hasattr(local, "connection"):
        if DATABASE.startswith("postgresql"):
            import psycopg

            local.connection = psycopg.connect(DATABASE)
            pk, local.param = "SERIAL PRIMARY KEY", "%s"
        else:
            local.connection = sqlite3.connect(DATABASE, timeout=10, isolation_level=None)
            local.connection.execute("PRAGMA journal_mode=WAL")
            local.connection.execute("PRAGMA synchronous=NORMAL")
            pk, local.param = "INTEGER PRIMARY KEY", "?"
        for statement in SCHEMA:
            local.connection.execute(statement.format(pk=pk))
        if not isinstance(local.connection, sqlite3.Connection):
            local.connection.commit()
    return local.connection


@app.post("/subscribe")
def subscribe():
    email = request.form.get("email", "")
    if not EMAIL.match(email):
        return "invalid", 400
    db, p = connection(), local.param
    if isinstance(db, sqlite3.Connection):
        db.execute("BEGIN IMMEDIATE")
    db.execute(f"INSERT INTO baseline_subscribers (email, full_name, created_at) VALUES ({p}, {p}, "
               f"CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING", (email, request.form.get("full_name", "")))
    db.execute(f"INSERT INTO baseline_outbox (recipient, body, created_at) VALUES ({p}, {p}, "
               f"CURRENT_TIMESTAMP)", (email, "Please confirm"))
    db.execute("COMMIT") if isinstance(db, sqlite3.Connection) else db.commit()
    return redirect("/thanks", 303)


@app.get("/healthz")
def healthz():
    connection()
    return "ok"
