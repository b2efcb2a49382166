"""The structure a newcomer can rely on: one import package, layers that hold, one place per rule.

The import graph is read from the built wheel (what a user really installs) and from the repo root,
where `exclusion_risk/linkage` etc. are links to the stage folders: setuptools' package-dir maps those
folders into the package, which import-linter's graph builder (grimp) cannot follow on its own.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "exclusion_risk"
# Source folder -> the package it installs as: pyproject's [tool.setuptools.package-dir].
PACKAGE_DIR = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
SOURCE_PACKAGES = {folder: package for package, folder in PACKAGE_DIR.items()}
STAGE_NAMES = set(SOURCE_PACKAGES) - {PACKAGE}
MAX_MODULE_LINES = 500
# Imported inside the functions that need them, so a command loads only what it uses.
LAZY_LIBRARIES = {"mlflow", "shap", "lightgbm", "matplotlib", "splink", "recordlinkage", "pyspark", "duckdb"}


def package_modules() -> Iterator[tuple[str, Path]]:
    """(dotted module name, source path) of every module the wheel installs."""
    for folder, package in SOURCE_PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((package, *parts)), path


@functools.cache
def parsed(path: Path) -> ast.Module:
    """A module's syntax tree, parsed once for all the checks below."""
    return ast.parse(path.read_text(encoding="utf-8"))


def repo_python_sources() -> Iterator[tuple[Path, str]]:
    """Every Python source in the repo that imports the package: modules, tests, benches, notebooks."""
    for _, path in package_modules():
        yield path, path.read_text(encoding="utf-8")
    for folder in ("tests", "bench"):
        for path in sorted((REPO / folder).rglob("*.py")):
            yield path, path.read_text(encoding="utf-8")
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        # IPython magics are not Python
        python = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
        yield notebook, "\n".join(python)


def imports_in(tree: ast.AST) -> Iterator[tuple[ast.AST, str, bool]]:
    """(node, imported module, whether inside a function body) for every import statement."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.AST, str, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield child, alias.name, in_function
            elif isinstance(child, ast.ImportFrom):
                yield child, ("." * child.level) + (child.module or ""), in_function
            yield from walk(child, inner)

    yield from walk(tree, False)


@pytest.fixture(scope="session")
def installed(shared_tmp: Path) -> Path:
    """The project's wheel, built from a copy of the sources and unpacked: what pip would install.

    Built once per run (xdist workers share it under a lock)."""
    root = shared_tmp / "wheel"
    with FileLock(str(shared_tmp / "wheel.lock")):
        site = root / "site"
        if not site.is_dir():
            _build_and_unpack(root, site)
    return site


def _build_and_unpack(root: Path, site: Path) -> None:
    source = root / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in SOURCE_PACKAGES:
        shutil.copytree(REPO / folder, source / folder, ignore=ignore, symlinks=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    built = subprocess.run(
        # the venv's own setuptools (a dev dependency): no download, the same build every time
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(root / "dist"), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(root / "unpacking")
    (root / "unpacking").rename(site)


def lint_imports(site: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """import-linter's contracts (pyproject.toml) on the package at `site`; writes nothing."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    config = str(REPO / "pyproject.toml")
    command = [str(Path(sys.executable).with_name("lint-imports")), "--config", config, "--no-cache"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd or site.parent)


# --- one import package ------------------------------------------------------------------------


def test_the_wheel_installs_one_top_level_package(installed):
    (top_level,) = installed.glob("*.dist-info/top_level.txt")
    assert top_level.read_text().split() == [PACKAGE]
    assert sorted(p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")) == [PACKAGE]


def test_the_wheel_holds_every_module_and_template(installed):
    missing = [
        name for name, path in package_modules()
        if not (installed / Path(*name.split("."))).with_suffix(".py").exists()
        and not (installed / Path(*name.split(".")) / "__init__.py").exists()
    ]  # fmt: skip
    assert missing == [], "add the folder to [tool.setuptools] packages in pyproject.toml"
    for data in ("models/templates", "linkage/templates", "serving/static", "exclusion_risk/reference"):
        folder, rest = data.split("/", 1)
        installed_folder = installed / Path(*SOURCE_PACKAGES[folder].split(".")) / rest
        expected = sorted(p.name for p in (REPO / data).iterdir() if p.is_file())
        assert sorted(p.name for p in installed_folder.iterdir()) == expected
    # the page's template, kept outside serving/static so that the static mount never serves it unfilled
    assert (installed / Path(*SOURCE_PACKAGES["serving"].split(".")) / "index.html").is_file()


def test_no_source_imports_a_bare_stage_name():
    offenders = []
    for path, text in repo_python_sources():
        for node, module, _ in imports_in(ast.parse(text)):
            if module.split(".")[0] in STAGE_NAMES:
                offenders.append(f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')} {module}")
    assert offenders == []


# --- layers and cycles -------------------------------------------------------------------------


def test_import_linter_contracts_hold(installed):
    result = lint_imports(installed)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


def test_lint_imports_run_in_the_repo_sees_every_stage():
    """`lint-imports` in the repo root (what a developer runs) reads `./exclusion_risk`, whose links to
    the stage folders let it see the same package the wheel installs."""
    for folder, package in SOURCE_PACKAGES.items():
        if folder != PACKAGE:
            assert (REPO / PACKAGE / folder).resolve() == (REPO / folder).resolve(), package
    result = lint_imports(REPO, cwd=REPO)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    analysed = int(re.search(r"Analyzed (\d+) files", result.stdout).group(1))
    assert analysed == sum(1 for _ in package_modules())


def test_the_layers_contract_catches_an_upward_import(installed, tmp_path):
    """The contract can fail: linkage importing the service is reported."""
    site = tmp_path / "site"
    shutil.copytree(installed, site)
    codes = site / PACKAGE / "linkage" / "codes.py"
    codes.write_text(codes.read_text() + "\nimport exclusion_risk.serving.app  # noqa\n")
    result = lint_imports(site)
    assert result.returncode != 0
    assert "exclusion_risk.linkage.codes -> exclusion_risk.serving.app" in result.stdout


# Run in a child process: in this one `exclusion_risk` is already imported from the editable
# install, whose package-dir mapping grimp cannot follow.
CYCLES_SCRIPT = """
import json, sys
import grimp

graph = grimp.build_graph("exclusion_risk", cache_dir=None)
index, low, stack, on_stack, groups = {}, {}, [], set(), []
sys.setrecursionlimit(10_000)


def visit(module):  # Tarjan's strongly connected components
    index[module] = low[module] = len(index)
    stack.append(module)
    on_stack.add(module)
    for imported in graph.find_modules_directly_imported_by(module):
        if imported not in index:
            visit(imported)
            low[module] = min(low[module], low[imported])
        elif imported in on_stack:
            low[module] = min(low[module], index[imported])
    if low[module] == index[module]:
        group = []
        while True:
            member = stack.pop()
            on_stack.discard(member)
            group.append(member)
            if member == module:
                break
        if len(group) > 1:
            groups.append(sorted(group))


for module in sorted(graph.modules):
    if module not in index:
        visit(module)
print(json.dumps({"modules": len(graph.modules), "cycles": groups}))
"""


def import_cycles(site: Path) -> dict:
    """Every group of modules that import each other, in the package installed at `site`."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    found = subprocess.run(
        [sys.executable, "-c", CYCLES_SCRIPT], capture_output=True, text=True, env=env, cwd=site
    )
    assert found.returncode == 0, found.stderr[-3000:]
    return json.loads(found.stdout)


def test_no_import_cycles(installed):
    found = import_cycles(installed)
    assert found["modules"] >= sum(1 for _ in package_modules())
    # Importing a package runs its __init__, so a package and its own modules are not a cycle.
    cycles = [
        group for group in found["cycles"]
        if not all(m == min(group) or m.startswith(min(group) + ".") for m in group)
    ]  # fmt: skip
    assert cycles == []


def test_the_cycle_check_finds_a_cycle(installed, tmp_path):
    """The check can fail: two foundation modules importing each other are reported."""
    site = tmp_path / "site"
    shutil.copytree(installed, site)
    for importer, imported in (("calendar", "values"), ("values", "calendar")):
        module = site / PACKAGE / f"{importer}.py"
        module.write_text(module.read_text() + f"\nimport exclusion_risk.{imported}  # noqa\n")
    assert ["exclusion_risk.calendar", "exclusion_risk.values"] in import_cycles(site)["cycles"]


def is_command_module(name: str) -> bool:
    """A command-line module: `exclusion_risk.cli`, a stage's `cli` or `*_cli`, `cli_inputs`, `cli_checks`."""
    return name.rsplit(".", 1)[-1] in COMMAND_MODULE_NAMES or name.endswith("_cli")


COMMAND_MODULE_NAMES = {"cli", "cli_inputs", "cli_checks"}


def test_only_command_modules_are_exempt():
    # the review: any name starting "cli" was exempt (a future serving/client.py, models/clinic_rates.py)
    assert is_command_module("exclusion_risk.cli") and is_command_module("exclusion_risk.models.score_cli")
    assert is_command_module("exclusion_risk.models.cli_inputs")
    assert not is_command_module("exclusion_risk.serving.client")
    assert not is_command_module("exclusion_risk.models.clinic_rates")


def test_first_party_imports_sit_at_the_top_of_modules():
    """Except in command-line modules: a command imports what it runs inside itself, so `--help`, `check`
    and `link` start without scikit-learn, pandera or FastAPI (tests/test_cli_imports.py). import-linter
    and the cycle check still see those imports."""
    inside = []
    for name, path in package_modules():
        if is_command_module(name):
            continue
        for node, module, in_function in imports_in(parsed(path)):
            if in_function and (module.startswith(PACKAGE) or module.startswith(".")):
                inside.append(f"{name}:{node.lineno} {module}")
    assert inside == []


def test_heavy_libraries_load_lazily():
    """A heavy optional library at module top would load with `exclusion-risk --help`."""
    eager = []
    for name, path in package_modules():
        for node, module, in_function in imports_in(parsed(path)):
            if not in_function and module.split(".")[0] in LAZY_LIBRARIES:
                eager.append(f"{name}:{node.lineno} {module}")
    assert eager == []


# --- each file one job, one place for each rule ------------------------------------------------


def test_no_module_over_the_size_limit():
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in package_modules()}
    assert {name: n for name, n in lines.items() if n > MAX_MODULE_LINES} == {}


def test_mlflow_is_imported_by_one_module():
    importers = {
        name
        for name, path in package_modules()
        for _, module, _ in imports_in(parsed(path))
        if module.split(".")[0] == "mlflow"
    }
    assert len(importers) == 1, importers


def assignments_of(name: str) -> list[str]:
    found = []
    for module, path in package_modules():
        for node in ast.walk(parsed(path)):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if isinstance(node, ast.Assign | ast.AnnAssign) and any(
                isinstance(t, ast.Name) and t.id == name for t in targets
            ):
                found.append(module)
    return found


@pytest.mark.parametrize(
    ("constant", "home"),
    [
        ("SCORE_COLUMNS", "exclusion_risk.contract"),
        ("LINKS_COLUMNS", "exclusion_risk.contract"),
        ("LINKS_FILE", "exclusion_risk.contract"),
        ("REJECT_COLUMNS", "exclusion_risk.contract"),
        ("SCORE_OFFICER_COLUMNS", "exclusion_risk.contract"),
        ("SCHOOL_NAME", "exclusion_risk.contract"),
        ("PUPIL_KEY", "exclusion_risk.contract"),
        ("RECORDED_UPN", "exclusion_risk.linkage.history"),
        ("CENSUS_TERMS", "exclusion_risk.calendar"),
        ("REGISTERED_MODEL", "exclusion_risk.models.tracking"),
        ("CHAMPION", "exclusion_risk.models.tracking"),
    ],
)
def test_contract_constants_are_defined_once(constant, home):
    assert assignments_of(constant) == [home]


def test_the_academic_year_is_written_in_one_place():
    year_format = re.compile(r"\+ 1\) % 100:02d")
    writers = [name for name, path in package_modules() if year_format.search(path.read_text("utf-8"))]
    assert writers == ["exclusion_risk.calendar"]


def test_links_csv_is_named_in_one_place():
    namers = [
        name
        for name, path in package_modules()
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.Constant) and node.value == "links.csv"
    ]
    assert namers == ["exclusion_risk.contract"]
