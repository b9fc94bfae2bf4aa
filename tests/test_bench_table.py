"""`make bench` rewrites its results table in place: a re-run replaces its own rows and notes."""

from bench.common import Figure, write_table


def test_a_rerun_replaces_its_rows_and_notes_and_keeps_the_others(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n\nText after.\n")
    dashboard = "staff: dashboard, 1,000 subscribers, sqlite"
    write_table([Figure(dashboard, "5 ms", "1 ms", 5.0, "p95 < 300 ms", True, note="filled in 2 s"),
                 Figure("export", "8 s", "6 s", 1.3, "at most 1.3 times", True)], readme)
    write_table([Figure(dashboard, "4 ms", "1 ms", 4.0, "p95 < 300 ms", True, note="filled in 3 s")], readme)
    text = readme.read_text()
    assert text.count(f"| {dashboard} |") == 1 and "| 4 ms |" in text and "| export |" in text
    assert text.count(f"- {dashboard}:") == 1 and "filled in 3 s" in text
    assert text.endswith("Text after.\n")
