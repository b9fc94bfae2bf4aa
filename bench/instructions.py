"""Instructions per sign-up, counted by callgrind. The count moves far less than time with
the machine and its load, so two versions of the code compare closely on a noisy VM. Not
part of `make bench`: each count takes minutes under valgrind (`apt-get install -y
valgrind`). It counts SQLite only: PostgreSQL's work is in its server.

    .venv/bin/python -m bench.instructions

counts Roster's and the hand-written sign-up (`handwritten_app.py`), both forms, in-process
(the Flask test client, SQLite): WARM_UP sign-ups unmeasured, then COUNT more. Each runs
twice under callgrind, with and without the COUNT; the difference ÷ COUNT is one sign-up.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from itertools import count

from bench.common import ROOT, flask_cli
from bench.subscribe import ARTICLE_SITE, roster_env

WARM_UP, COUNT = 100, 200
APPS, FORMS = ("roster", "by hand"), ("hosted", "embed")
HTTPS = "https://127.0.0.1"  # production cookies are Secure, and its CSRF check wants a same-site Referer


def sign_ups(app_name: str, form: str, how_many: int, warm_up: int = WARM_UP) -> None:
    """Run in the counted process: set up a database, then sign up warm_up + how_many readers."""
    with tempfile.TemporaryDirectory() as tmp:
        env = roster_env(f"sqlite:///{tmp}/roster.sqlite3")
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "demo", "seed")
        os.environ.update(env)
        if app_name == "roster":
            from app import create_app

            app = create_app()
        else:
            from bench.handwritten_app import create_app

            app = create_app(env)
        client = app.test_client()
        page = client.get("/subscribe", base_url=HTTPS).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        readers = count()

        def hosted() -> int:
            return client.post("/subscribe", base_url=HTTPS, headers={"Referer": f"{HTTPS}/subscribe"}, data={
                "csrf_token": token, "email": f"r{next(readers)}@example.com", "full_name": "Bench Reader",
            }).status_code

        def embed() -> int:
            return client.post("/embed/subscribe", headers={"Origin": ARTICLE_SITE}, data={
                "email": f"r{next(readers)}@example.com", "full_name": "Bench Reader",
                "source": f"{ARTICLE_SITE}/story",
            }).status_code

        sign_up, answer = (hosted, 303) if form == "hosted" else (embed, 200)
        for _ in range(warm_up + how_many):
            if (status := sign_up()) != answer:
                raise RuntimeError(f"{app_name} {form} sign-up answered {status}")


def instructions(app_name: str, form: str, how_many: int) -> int:
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-m", "bench.instructions", "--sign-ups", app_name, form, str(how_many)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if result.returncode != 0:
        raise RuntimeError(f"{app_name} {form}: {result.stderr[-3000:]}")
    return int(re.search(r"Collected : (\d+)", result.stderr).group(1))


def per_sign_up(app_name: str, form: str) -> float:
    with ThreadPoolExecutor(2) as pool:  # both counts at once: one per core
        with_them, without = pool.map(lambda n: instructions(app_name, form, n), (COUNT, 0))
    return (with_them - without) / COUNT


def main() -> None:
    if sys.argv[1:2] == ["--sign-ups"]:  # app, form, how many[, warm-up]
        sign_ups(sys.argv[2], sys.argv[3], *map(int, sys.argv[4:6]))
        return
    if not shutil.which("valgrind"):
        raise SystemExit("this needs valgrind: apt-get install -y valgrind")
    for app_name in APPS:
        for form in FORMS:
            print(f"{app_name}, {form} form: {per_sign_up(app_name, form) / 1e6:.2f} M instructions per sign-up",
                  flush=True)


if __name__ == "__main__":
    main()
