"""Helpers the tests share (fixtures live in conftest.py): constants, reading mail and
pages, signing in, and a harness that runs callers at the same moment."""

import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from extensions import db
from models import OutboxMessage

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def outbox_rows() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def link_path(mail, kind: str) -> str:
    """The path of the first /<kind>/<token> link in a mail's text part."""
    text = mail.get_body(("plain",)).get_content()
    match = re.search(rf"https?://[^/\s]+(/{kind}/[A-Za-z0-9_.\-]+)", text)
    assert match, f"no /{kind}/ link in:\n{text}"
    return match.group(1)


def csrf_token(client, path: str = "/subscribe") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


STAFF_PASSWORD = "correct horse battery staple"


def sign_in(client, email: str, password: str = STAFF_PASSWORD):
    token = csrf_token(client, "/admin/login")
    return client.post("/admin/login", data={"csrf_token": token, "email": email, "password": password})


ARTICLE_ORIGIN = "https://news.example"


ARTICLE_URL = f"{ARTICLE_ORIGIN}/2026/11/ministers-call-for-summit"


def run_concurrently(app, call: Callable[..., Any], arguments: Iterable[tuple] | int) -> tuple[list, list[Exception]]:
    """Run `call` in one thread per tuple of `arguments` (or `arguments` times with none),
    each in its own app context and database session, released together by a barrier so
    that they race. Returns the results and the exceptions raised, in no particular order.
    The calling thread's read transaction ends first, so it sees what the threads write."""
    calls = [()] * arguments if isinstance(arguments, int) else list(arguments)
    start = threading.Barrier(len(calls))
    results: list = []
    errors: list[Exception] = []

    def run(args: tuple) -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(call(*args))
            except Exception as error:  # collected for the caller to assert on
                errors.append(error)
            finally:
                db.session.remove()

    db.session.commit()
    threads = [threading.Thread(target=run, args=(args,)) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
