"""The runbook library: every runbook file of the shipped directory, RUNBOOKS_DIR and the
policy's directories, read once per change of a file and kept by id (a later directory's
runbook replaces an earlier one's with the same id: a user's file overrides a shipped one)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.config import Settings
from haetae.diagnostics.models import ServiceCheck
from haetae.policy.loader import PolicyProblem
from haetae.policy.schema import Policy
from haetae.runbooks import loader
from haetae.runbooks.schema import Runbook

SHIPPED = Path(__file__).resolve().parent / "library"
# A README beside the runbooks explains the folder; it is no runbook.
SKIPPED_NAMES = {"readme.md"}


@dataclass(frozen=True)
class Loaded:
    runbook: Runbook
    path: str
    digest: str  # sha256 of the file
    shipped: bool  # from src/haetae/runbooks/library/


@dataclass(frozen=True)
class Library:
    runbooks: dict[str, Loaded]  # by id, in a stable order
    problems: list[PolicyProblem]  # errors; a bad file is left out, others load
    warnings: list[PolicyProblem]
    # Information, neither error nor warning: a runbook that replaces another with its id.
    notes: list[PolicyProblem] = field(default_factory=list)

    def get(self, runbook_id: str) -> Loaded | None:
        return self.runbooks.get(runbook_id)


def directories(runbooks_dir: str, policy_file: str | None, policy: Policy) -> list[Path]:
    """The shipped directory first, then RUNBOOKS_DIR's (os.pathsep-separated), then the
    policy's `response.runbooks.directories` (relative ones from the policy file's folder)."""
    dirs = [SHIPPED]
    dirs += [Path(part) for part in runbooks_dir.split(os.pathsep) if part.strip()]
    base = Path(policy_file).parent if policy_file else Path.cwd()
    for entry in policy.response.runbooks.directories:
        path = Path(entry)
        dirs.append(path if path.is_absolute() else base / path)
    # One directory named twice is read once, where it first appears.
    seen: set[Path] = set()
    unique = []
    for d in dirs:
        key = d.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


# path -> ((mtime_ns, size), what reading it gave): a file is parsed again only once changed.
_cache: dict[str, tuple[tuple[int, int], loader.Parsed | loader.RunbookError]] = {}
_lock = threading.Lock()


def _read(path: Path) -> loader.Parsed | loader.RunbookError:
    try:
        stat = path.stat()
    except OSError as exc:
        return loader.RunbookError([PolicyProblem(str(path), None, "", exc.strerror or str(exc))])
    stamp = (stat.st_mtime_ns, stat.st_size)
    key = str(path)
    with _lock:
        cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        result: loader.Parsed | loader.RunbookError = loader.read_runbook(path)
    except loader.RunbookError as exc:
        result = exc
    with _lock:
        _cache[key] = (stamp, result)
    return result


def parsed(loaded: Loaded) -> loader.Parsed | None:
    """What reading the file gave (with its fields' lines), if it is still as loaded."""
    cached = _cache.get(loaded.path)
    if cached and isinstance(cached[1], loader.Parsed) and cached[1].digest == loaded.digest:
        return cached[1]
    return None


def files(directory: Path) -> list[Path]:
    """The runbook files of a directory, by name (a file given for itself: just it)."""
    if directory.is_file():
        return [directory]
    return sorted(
        p for p in directory.glob("*.md") if p.is_file() and p.name.lower() not in SKIPPED_NAMES
    )


def load(dirs: list[Path]) -> Library:
    """Every runbook of the directories, in their order (a file may stand for a directory)."""
    found: dict[str, Loaded] = {}
    problems: list[PolicyProblem] = []
    notes: list[PolicyProblem] = []
    for directory in dirs:
        shipped = directory.resolve() == SHIPPED
        if not directory.exists():
            if not shipped:
                problems.append(PolicyProblem(str(directory), None, "", "no such directory"))
            continue
        here: dict[str, str] = {}  # id -> file, in this directory
        for path in files(directory):
            result = _read(path)
            if isinstance(result, loader.RunbookError):
                problems += result.problems
                continue
            runbook_id = result.runbook.id
            if runbook_id in here:
                message = f"the id '{runbook_id}' is also used by {here[runbook_id]}"
                problems.append(PolicyProblem(str(path), result.line("id"), "id", message))
                continue
            here[runbook_id] = str(path)
            earlier = found.get(runbook_id)
            if earlier is not None:
                message = f"replaces the runbook '{runbook_id}' of {earlier.path}"
                notes.append(PolicyProblem(str(path), result.line("id"), "id", message))
            found[runbook_id] = Loaded(result.runbook, str(path), result.digest, shipped)
    runbooks = {k: found[k] for k in sorted(found)}
    return Library(runbooks, problems, [], notes)


def with_warnings(library: Library, policy: Policy, session: Session | None = None) -> Library:
    """The library with the warnings of the policy in force (and, with a database session, of
    the configured checks its steps name)."""
    checks: set[str] | None = None
    if session is not None:
        checks = set(session.scalars(select(ServiceCheck.slug)))
    warnings = list(library.warnings)
    for loaded in library.runbooks.values():
        found = parsed(loaded) or loader.Parsed(loaded.runbook, loaded.digest)
        # The shipped runbooks keep each seed's own roles and severity names (seed 002's P0,
        # seed 004's SEV-1): under any one policy most would warn, so only the runbooks people
        # write themselves are held to the policy in force.
        if not loaded.shipped:
            warnings += loader.policy_warnings(found, loaded.path, policy)
        if checks is not None:
            warnings += loader.check_warnings(found, loaded.path, checks)
    return Library(library.runbooks, library.problems, warnings, library.notes)


def current(settings: Settings, policy: Policy, session: Session | None = None) -> Library:
    """The library as the settings and the policy in force make it, with its warnings."""
    policy_file = str(settings.policy_file) if settings.policy_file else None
    library = load(directories(settings.runbooks_dir, policy_file, policy))
    return with_warnings(library, policy, session)


def relative_path(loaded: Loaded) -> str:
    """The file's path within its directory (just the name: directories are read flat)."""
    return Path(loaded.path).name
