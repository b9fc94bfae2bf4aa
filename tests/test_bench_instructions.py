"""bench/instructions.py counts sign-ups only while they succeed: each app and form must
sign readers up in the process callgrind counts (run here without callgrind)."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench.instructions import APPS, FORMS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("app_name", APPS)
def test_the_counted_process_signs_readers_up(app_name, form):
    result = subprocess.run([sys.executable, "-m", "bench.instructions", "--sign-ups", app_name, form, "2", "1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
