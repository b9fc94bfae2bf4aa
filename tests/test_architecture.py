"""The plan of the house, checked: wings import only the wings below them, nothing imports
in a cycle, models and services stay out of HTTP, and no module grows past 400 lines."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("services", "models", "blueprints", "commands")
# Bottom to top: a wing may import its own modules and those of the wings before it.
WINGS = ("core", "mail", "staff", "subscriptions", "courses", "privacy", "data", "console", "newsletters", "worker")
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def imports_of(path: Path, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Every module the file imports, wherever in the file (a lazy import is still a
    dependency). `from package import submodule` depends on the submodule alone."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(node.module)
    return found


def project_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in python_files(*PACKAGES)}
    modules.update({"app": ROOT / "app.py", "config": ROOT / "config.py", "extensions": ROOT / "extensions.py"})
    known = set(modules)
    return {name: {m for m in imports_of(path, known) if m in known and m != name} for name, path in modules.items()}


def wing_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 2 else None


def test_every_service_module_lives_in_a_wing():
    loose = [p.name for p in (ROOT / "services").glob("*.py") if p.name != "__init__.py"]
    assert loose == []
    assert sorted(p.name for p in (ROOT / "services").iterdir() if p.is_dir() and p.name != "__pycache__") \
        == sorted(WINGS)


def test_wings_import_only_the_wings_below_them():
    upward = []
    for module, imported in project_graph().items():
        wing = wing_of(module)
        if wing is None:
            continue
        for target in imported:
            target_wing = wing_of(target)
            if target_wing is not None and WINGS.index(target_wing) > WINGS.index(wing):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_services_and_models_never_import_the_http_layer_or_the_app():
    offending = []
    for module, imported in project_graph().items():
        if module.split(".")[0] in {"services", "models"}:
            offending += [f"{module} -> {t}" for t in imported if t.split(".")[0] in {"blueprints", "commands", "app"}]
    assert offending == []


def test_models_import_nothing_of_flask():
    for path in python_files("models"):
        assert not any(name.split(".")[0].startswith("flask") for name in imports_of(path)), path


def test_no_import_cycle():
    graph = project_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("folder", ["services", "models", "blueprints", "commands", "tests", "bench"])
def test_no_module_is_over_400_lines(folder):
    long = {str(p.relative_to(ROOT)): n for p in python_files(folder)
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_only_the_transactions_module_touches_the_flask_sqlalchemy_session():
    """The one way to the database (services/core/transactions.py): nothing else in the
    services, the views or the commands uses `db.session` or `db.engine` itself."""
    allowed = ROOT / "services" / "core" / "transactions.py"
    offending = []
    for path in python_files("services", "blueprints", "commands"):
        if path == allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (isinstance(node, ast.Attribute) and node.attr in {"session", "engine"}
                    and isinstance(node.value, ast.Name) and node.value.id == "db"):
                offending.append(f"{path.relative_to(ROOT)}:{node.lineno} db.{node.attr}")
    assert offending == []
