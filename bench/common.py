"""Shared pieces for benchmarks: servers, load, memory and the results table."""

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Production settings refuse weak keys; a bench run signs with a key of its own.
SECRET_KEY = secrets.token_urlsafe(48)
BIN = Path(sys.executable).parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Figure:
    name: str
    ours: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None
    note: str = ""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {memory_gb:.0f} GiB, Python {platform.python_version()}"


def fresh_postgres_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def flask_cli(env: dict, *args: str) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env={**os.environ, **env},
                   check=True, stdout=subprocess.DEVNULL)


class Gunicorn:
    """A gunicorn server for one benchmark run; peak RSS read from its workers. It starts
    at once; wait_until_up() waits for it, so that several servers start side by side."""

    def __init__(self, target: str, workers: int, port: int, env: dict, cwd: Path = ROOT):
        self.url, self.target = f"http://127.0.0.1:{port}", target
        # A file, not a pipe: a pipe nobody reads fills and stalls the server. Closed by stop().
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", target],
            # Benchmarks run with rate limits off (gunicorn.conf.py then allows several workers).
            cwd=cwd, env={**os.environ, "RATELIMIT_ENABLED": "false", **env}, stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def wait_until_up(self) -> "Gunicorn":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self._end_process()
        self.log.seek(0)
        log = self.log.read().decode()[-2000:]
        self.stop()
        raise RuntimeError(f"{self.target} did not start: {log}")

    def worker_peak_rss_mb(self) -> float:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return max(peak_rss_mb(int(pid)) for pid in children)

    def __enter__(self) -> "Gunicorn":
        return self

    def __exit__(self, *_exception) -> None:
        self.stop()

    def stop(self) -> None:
        self._end_process()
        self.log.close()

    def _end_process(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def wrk(url: str, script: Path, env: dict, seconds: int, connections: int = 16) -> LoadResult:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    output = subprocess.run(
        ["wrk", "--threads", "2", "--connections", str(connections), "--duration", f"{seconds}s",
         "--script", str(script), url],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    ).stdout
    summary = json.loads(output[output.index("{"):output.rindex("}") + 1])
    return LoadResult(summary["rps"], summary["p50_us"] / 1000, summary["p99_us"] / 1000,
                      summary["requests"], summary["errors"])


def write_table(figures: list[Figure], path: Path) -> None:
    """Rewrite the results block; rows of figures not measured this time are kept,
    so one module can be re-run alone (each row says when it was measured)."""
    today = time.strftime("%Y-%m-%d")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    text = path.read_text() if path.exists() else ""
    old_block = text[text.index(start):text.index(end)] if start in text else ""
    measured = {f.name for f in figures}
    kept = [line for line in old_block.splitlines()
            if line.startswith("| ") and not line.startswith("| figure")
            and line.split(" | ")[0][2:] not in measured]
    kept = [line if line.count(" | ") == 6 else f"{line} {today} |" for line in kept]  # older rows: no date
    lines = ["| figure | Roster | baseline | ratio | target | met | measured |", "|---|---|---|---|---|---|---|",
             *kept]
    for f in figures:
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[f.met]
        lines.append(f"| {f.name} | {f.ours} | {f.baseline} | {ratio} | {f.target} | {met} | {today} |")
    notes = [line for line in old_block.splitlines() if line.startswith("- ")
             and not any(line.startswith(f"- {name}: ") for name in measured)] \
        + [f"- {f.name}: {f.note}" for f in figures if f.note]
    block = "\n".join([start, f"Machine: {machine()}.", "", *lines, "", *notes, end])
    text = text[:text.index(start)] + block + text[text.index(end) + len(end):] if start in text \
        else text + "\n" + block + "\n"
    path.write_text(text)



def run_from_command_line(description: str | None, report, run_measure) -> None:
    """A data benchmark run on its own: `python -m bench.NAME [--rows N] [--workdir DIR]`;
    `--measure` is the child process each measured step runs in."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        run_measure(options.measure[0], options.measure[1:])
        return
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="roster-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        for figure in report(workdir, options.rows):
            print(figure)
    finally:
        if not options.workdir:
            shutil.rmtree(workdir)


def measure_in_child(script: str, name: str, *args: str) -> dict:
    """Run one measured part of a data benchmark (`script --measure NAME ARGS…`) in a fresh
    interpreter, so its peak RSS is its own; the JSON line it prints last (time, peak RSS)."""
    output = subprocess.run([sys.executable, script, "--measure", name, *args], check=True,
                            capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])
