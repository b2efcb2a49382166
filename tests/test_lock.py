"""requirements.lock is a full hash-locked lock: `make venv` installs it with `pip install --require-hashes`.

Every requirement in it is pinned with `==` and carries at least one sha256 hash (pip refuses the whole
file otherwise), and the versions pinned in pyproject.toml (the dependencies and the dev extra) are the
ones the lock installs. The lock's header says how it was produced and how to regenerate it.
requirements-spark.lock (the optional `spark` extra, which `make spark` installs) is checked the same
way, and pins nothing at another version than requirements.lock.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def lock_entries(text: str) -> list[str]:
    """One string per requirement in a lock: its continuation lines joined, comments dropped."""
    entries: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = "" if raw.lstrip().startswith("#") else raw.split(" #", 1)[0].strip()
        if not line:
            continue
        current += " " + line.removesuffix("\\").strip()
        if not line.endswith("\\"):
            entries.append(current.strip())
            current = ""
    if current.strip():
        entries.append(current.strip())
    return entries


def lock_problems(text: str) -> list[str]:
    """What makes `pip install --require-hashes -r` refuse a lock, or lets it pull something unpinned."""
    problems = []
    seen: set[str] = set()
    for entry in lock_entries(text):
        match = PIN.match(entry)
        if not match:
            problems.append(f"not an exact `name==version` pin: {entry[:80]}")
            continue
        name = canonicalize_name(match["name"])
        if name in seen:
            problems.append(f"{name} is pinned twice")
        seen.add(name)
        options = entry[match.end() :].split()
        if not options:
            problems.append(f"{name} has no --hash=sha256")
        # Only hashes after the pin: no markers, index, find-links or editable lines.
        problems += [f"{name}: unexpected {option[:40]}" for option in options if not HASH.fullmatch(option)]
    return problems


def lock_pins(text: str) -> dict[str, str]:
    return {
        canonicalize_name(match["name"]): match["version"]
        for match in (PIN.match(entry) for entry in lock_entries(text))
        if match
    }


def exact_pins(lines: list[str]) -> dict[str, str]:
    """Requirement lines of pyproject.toml -> {name: version}, each asserted to be an exact pin."""
    pins: dict[str, str] = {}
    for line in lines:
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"pyproject pins exact versions: {line}"
        pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return exact_pins([*project["dependencies"], *project["optional-dependencies"]["dev"]])


def test_every_lock_requirement_is_pinned_and_hashed():
    text = LOCK.read_text(encoding="utf-8")
    assert len(lock_entries(text)) > 100
    assert lock_problems(text) == []


def test_the_lock_check_catches_a_missing_hash_or_pin():
    good = "six==1.17.0 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via python-dateutil\n"
    assert lock_problems(good) == []
    assert lock_problems("six==1.17.0\n") == ["six has no --hash=sha256"]
    assert lock_problems("six>=1.16 \\\n    --hash=sha256:" + "0" * 64 + "\n")[0].startswith("not an exact")
    assert lock_problems(good + good) == ["six is pinned twice"]


def test_pyproject_pins_agree_with_the_lock():
    lock = lock_pins(LOCK.read_text(encoding="utf-8"))
    pinned = pyproject_pins()
    missing = sorted(set(pinned) - set(lock))
    assert not missing, f"pinned in pyproject.toml but not in requirements.lock: {missing}"
    differ = {name: (version, lock[name]) for name, version in pinned.items() if lock[name] != version}
    assert not differ, f"pyproject.toml vs requirements.lock (name: (pyproject, lock)): {differ}"


def test_the_lock_says_how_to_regenerate_it():
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    header = " ".join(itertools.takewhile(lambda line: line.startswith("#"), lines))
    assert "pip-compile" in header and "--generate-hashes" in header and "pyproject.toml" in header


# --- requirements-spark.lock: the optional `spark` extra, locked apart ------------------------------

SPARK_LOCK = REPO / "requirements-spark.lock"


def spark_extra_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return exact_pins(project["optional-dependencies"]["spark"])


def test_the_spark_lock_is_pinned_and_hashed_and_holds_the_extra():
    text = SPARK_LOCK.read_text(encoding="utf-8")
    assert lock_problems(text) == []
    lock = lock_pins(text)
    extra = spark_extra_pins()
    assert "pyspark" in extra
    assert {name: lock.get(name) for name in extra} == extra


def test_the_spark_lock_agrees_with_the_main_lock():
    """`make spark` installs into the venv requirements.lock built: a package both locks pin must
    have one version, or installing the extra would change the tested environment."""
    main = lock_pins(LOCK.read_text(encoding="utf-8"))
    spark = lock_pins(SPARK_LOCK.read_text(encoding="utf-8"))
    differ = {
        name: (version, main[name])
        for name, version in spark.items()
        if name in main and main[name] != version
    }
    assert not differ, f"requirements-spark.lock vs requirements.lock (name: (spark, main)): {differ}"
    assert set(spark) - set(main) >= {"pyspark", "py4j"}


def test_the_spark_lock_says_how_to_regenerate_it():
    lines = SPARK_LOCK.read_text(encoding="utf-8").splitlines()
    header = " ".join(itertools.takewhile(lambda line: line.startswith("#"), lines))
    assert "pip-compile" in header and "--generate-hashes" in header and "--extra=spark" in header
    assert "--constraint=requirements.lock" in header
