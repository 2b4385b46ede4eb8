"""The package layout the plugin API promises: one public surface, no import cycles inside gan-core."""

from __future__ import annotations

import ast
from pathlib import Path

import gan_core

REPO = Path(__file__).resolve().parents[3]
CORE = REPO / "packages" / "gan-core" / "src" / "gan_core"
#: the modules a plugin may import: the package itself, the test kit and the draws of a stackable component
PUBLIC = {"gan_core", "gan_core.testing", "gan_core.rng"}


def module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions, with relative imports resolved."""
    inside = CORE in path.parents
    package = "" if not inside else module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level and not inside:
                continue  # a method package's own relative imports
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found |= {f"{prefix}.{alias.name}" for alias in node.names}
    return found


def internal_module(name: str) -> str | None:
    """The internal gan_core module that ``name`` reaches (gan_core.runs, gan_core.runs.x...), or None."""
    parts = name.split(".")
    if parts[0] != "gan_core" or len(parts) < 2:
        return None
    module = f"gan_core.{parts[1]}"
    is_module = (CORE / f"{parts[1]}.py").is_file() or (CORE / parts[1] / "__init__.py").is_file()
    return module if is_module and module not in PUBLIC else None


def test_the_surface_check_sees_every_way_of_reaching_an_internal_module(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import gan_core.runs\nfrom gan_core import penalties\nfrom gan_core.sampling import draw\n"
                     "from gan_core import Prior\nfrom gan_core.testing import run_cli\n")
    reached = {internal_module(name) for name in imports_of(probe)} - {None}
    assert reached == {"gan_core.runs", "gan_core.penalties", "gan_core.sampling"}


def test_method_packages_and_examples_import_only_the_public_surface():
    roots = [p for p in (REPO / "packages").iterdir() if p.name != "gan-core"] + [REPO / "examples"]
    offenders = []
    for root in roots:
        for path in root.rglob("*.py"):
            for name in imports_of(path):
                if internal_module(name):
                    offenders.append(f"{path.relative_to(REPO)}: {name}")
    assert not offenders, "import these from gan_core instead:\n" + "\n".join(sorted(offenders))


def test_every_public_name_resolves():
    for name in gan_core.__all__:
        assert getattr(gan_core, name) is not None, name


def test_gan_core_has_no_import_cycles():
    modules = {module_name(p): p for p in CORE.rglob("*.py")}
    graph = {
        name: {m for m in imports_of(path) if m in modules and m != name and not name.startswith(m + ".")}
        for name, path in modules.items()
    }
    graph["gan_core"] = set()  # the package's lazy re-exports are not imports at load time
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


#: what constructs a run's networks from its description; only gan_core.build may call these
NETWORK_BUILDERS = {"build_networks", "build_loss_modules", "network_spec", "build_run"}


def calls_in(path: Path) -> set[str]:
    """Names of the functions and methods ``path`` calls (``f(...)`` and ``x.f(...)`` alike)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_one_module_builds_a_runs_networks():
    """Train, resume, --init-from, load_run (sample, eval, inspect, report), the kit and the benchmarks build through
    gan_core.build.build_run; a second place that assembles G and D from a run's parts fails here."""
    sources = [p for p in REPO.glob("packages/*/src/**/*.py")] + list(REPO.glob("benchmarks/*.py")) + \
        list(REPO.glob("scripts/*.py")) + list(REPO.glob("examples/**/*.py"))
    builders = {str(p.relative_to(REPO)) for p in sources if calls_in(p) & (NETWORK_BUILDERS - {"build_run"})}
    assert builders == {"packages/gan-core/src/gan_core/build.py"}
    # architectures' build() is called by build.build_networks alone (tests may build one by hand)
    arch_build = {str(p.relative_to(REPO)) for p in sources
                  if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "build"
                         and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == "architecture"
                         for n in ast.walk(ast.parse(p.read_text())))}
    assert arch_build == {"packages/gan-core/src/gan_core/build.py"}
    users = {str(p.relative_to(REPO)) for p in sources if "build_run" in calls_in(p)}
    assert {"packages/gan-core/src/gan_core/training.py", "packages/gan-core/src/gan_core/conformance.py",
            "benchmarks/train_throughput.py"} <= users
