"""`oms import merchant-process FILE`: new merchant processes as data — their transitions and
the reserved flag of each state (spec 9.2, 9.5) — from one CSV file, so a process added later
carries its reservations like the two the migrations seed.

Columns `process,state,event,target_state,manual,reserved`: a row is a transition from `state`
(`event`, `target_state`, `manual` yes/no) or, with those three empty, a state alone (a final
state such as `closed` has no transition of its own). `reserved` (yes/no) is the flag of
`state`; every state of a process, targets included, needs one, and one state one flag. The
file is applied whole or not at all; a process that exists already is refused (its items'
reservations were counted under its flags: processes are added, not edited, here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine

from adapters.persistence.merchants import add_processes, process_exists
from domain.merchant_oms import Process, ProcessTransition
from flows.csv_files import CsvFile, CsvRow

COLUMNS = ("process", "state", "reserved")
OPTIONAL = ("event", "target_state", "manual")
YES, NO = {"yes", "true", "1"}, {"no", "false", "0"}


@dataclass
class ProcessImport:
    processes: list[Process] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _flag(row: CsvRow, column: str) -> bool | None:
    text = row.values.get(column, "").strip().lower()
    return True if text in YES else False if text in NO else None


def _rows(csv_file: CsvFile) -> Iterator[CsvRow]:
    return (row for row in csv_file.rows if not row.blank)


def parse_processes(csv_file: CsvFile) -> ProcessImport:
    """The processes the file defines, or every error it has (row and column named)."""
    found = ProcessImport()
    transitions: dict[str, list[ProcessTransition]] = {}
    flags: dict[tuple[str, str], tuple[bool, int]] = {}
    targets: dict[tuple[str, str], int] = {}
    keys: dict[tuple[str, str, str], int] = {}
    for row in _rows(csv_file):
        if row.error is not None:
            found.errors.append(row.error)
            continue
        process, state = row.values["process"], row.values["state"]
        reserved = _flag(row, "reserved")
        if reserved is None:
            found.errors.append(f"{row.where('reserved')}: yes or no")
            continue
        earlier = flags.setdefault((process, state), (reserved, row.number))
        if earlier[0] != reserved:
            found.errors.append(
                f"{row.where('reserved')}: state {state!r} of {process} was "
                f"{'reserved' if earlier[0] else 'not reserved'} on row {earlier[1]}"
            )
        transitions.setdefault(process, [])
        event, target = row.values.get("event", ""), row.values.get("target_state", "")
        if not event and not target:
            continue  # a state alone
        manual = _flag(row, "manual")
        if not event or not target or manual is None:
            column = "event" if not event else "target_state" if not target else "manual"
            found.errors.append(
                f"{row.where(column)}: a transition needs event, target_state and manual (yes/no)"
            )
            continue
        first = keys.setdefault((process, state, event), row.number)
        if first != row.number:
            found.errors.append(
                f"{row.where('event')}: {process} has {event!r} from {state!r} on row {first}"
            )
            continue
        targets.setdefault((process, target), row.number)
        transitions[process].append(ProcessTransition(process, state, event, target, manual))
    for (process, target), number in sorted(targets.items(), key=lambda kv: kv[1]):
        if (process, target) not in flags:
            found.errors.append(
                f"row {number}: state {target!r} of {process} has no row of its own "
                "(its reserved flag)"
            )
    if not found.errors:
        found.processes = [
            Process(
                name,
                rows,
                [state for (p, state), (reserved, _) in flags.items() if p == name and reserved],
            )
            for name, rows in transitions.items()
        ]
        found.errors += [
            f"process {p.name}: no transition" for p in found.processes if not p.transitions
        ]
    return found


def import_process_definitions(csv_file: CsvFile, engine: Engine) -> ProcessImport:
    """Check the whole file, then add every process in one transaction (or none)."""
    found = parse_processes(csv_file)
    if found.errors:
        return found
    with engine.begin() as connection:
        existing = [p.name for p in found.processes if process_exists(connection, p.name)]
        if existing:
            found.errors += [
                f"process {name} exists: processes are added here, not changed" for name in existing
            ]
            return found
        add_processes(connection, found.processes)
    return found
