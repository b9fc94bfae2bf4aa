"""`make bench`: run every benchmark and rewrite the results table in bench/README.md."""

import importlib
import sys
import time
from pathlib import Path

from bench.common import write_table

# Each module has run() -> list[Figure]; a module that fails is reported, not hidden.
MODULES = ["bench.subscribe", "bench.delivery", "bench.campaigns", "bench.export_import", "bench.staff_pages",
           "bench.backup"]


def main() -> int:
    started = time.monotonic()
    figures, failures = [], []
    selected = sys.argv[1:] or MODULES
    for name in selected:
        print(f"== {name}", flush=True)
        module_started = time.monotonic()
        try:
            figures.extend(importlib.import_module(name).run())
        except Exception as error:  # report and go on with the others
            failures.append(f"{name}: {type(error).__name__}: {error}")
            print(failures[-1], flush=True)
        print(f"== {name} took {time.monotonic() - module_started:.0f} s", flush=True)
    for figure in figures:
        print(f"{figure.name}: {figure.ours} | baseline {figure.baseline} | "
              f"{figure.ratio:.2f}× | met: {figure.met}" if figure.ratio else figure)
    write_table(figures, Path(__file__).resolve().parent / "README.md")
    print(f"bench finished in {time.monotonic() - started:.0f} s; table in bench/README.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
