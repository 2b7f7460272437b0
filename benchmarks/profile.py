"""`oms bench ingest --profile DIR`: py-spy (a dev dependency) records the worker processes
during the pipeline phase, then the top functions are printed from the recording.

`py-spy record --pid MAIN --subprocesses` follows dramatiq's main process and the worker
processes it forked. Modes (`--profile-mode`):

- `gil`: only samples of threads holding the GIL: where the Python CPU time goes.
- `active` (py-spy's default): threads that are running or waiting for the GIL, idle ones left out.
- `idle`: every thread, idle ones too (`--idle`): wall-clock time, including the waits for
  PostgreSQL and RabbitMQ round trips and the worker threads' empty queue waits.

Formats: `raw` (collapsed stacks, one `frame;frame;… count` per line; speedscope.app and
flamegraph.pl read it) or `speedscope` (JSON for speedscope.app). py-spy reads other processes
with ptrace: as root it works; otherwise it needs CAP_SYS_PTRACE (or ptrace_scope 0)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MODES = {"gil": ["--gil"], "active": [], "idle": ["--idle"]}
FORMATS = {"raw": "txt", "speedscope": "json"}
ROOT = Path(__file__).resolve().parents[1]


def py_spy() -> str:
    here = Path(sys.executable).with_name("py-spy")
    found = str(here) if here.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy not found: pip install -e '.[dev]' (or pip install py-spy)")
    return found


@dataclass(frozen=True)
class Profile:
    folder: Path
    mode: str = "gil"
    form: str = "raw"


@dataclass
class Recording:
    process: subprocess.Popen[bytes]
    output: Path
    form: str


def start(pid: int, profile: Profile, name: str) -> Recording:
    profile.folder.mkdir(parents=True, exist_ok=True)
    output = profile.folder / f"{name}-{profile.mode}.{FORMATS[profile.form]}"
    argv = [py_spy(), "record", "--pid", str(pid), "--subprocesses", "--function", "--rate"]
    argv += ["100", "--format", profile.form, "--output", str(output), *MODES[profile.mode]]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return Recording(process, output, profile.form)


def stop(recording: Recording) -> Path:
    """py-spy writes its file when interrupted (as at Ctrl-C)."""
    if recording.process.poll() is None:
        recording.process.send_signal(signal.SIGINT)
    _, err = recording.process.communicate(timeout=120)
    if not recording.output.exists():
        raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace').strip()}")
    return recording.output


def _raw_stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    """`frame;frame;… count` per line; a process frame's command line may span lines."""
    record = ""
    for line in path.read_text().splitlines():
        record += line
        stack, _, count = record.rpartition(" ")
        if not (stack and count.isdigit()):
            record += "\n"
            continue
        record = ""
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        yield frames, int(count)


def _where(file: str) -> str:
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1]
    path = Path(file)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _speedscope_stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    data = json.loads(path.read_text())
    frames = [f"{f['name']} ({_where(f['file'])}:{f['line']})" for f in data["shared"]["frames"]]
    for profile in data["profiles"]:
        for sample, weight in zip(profile["samples"], profile["weights"], strict=True):
            yield [frames[i] for i in sample], int(weight)


def _package(frame: str) -> str:
    where = frame.rpartition(" (")[2].rstrip(")").rpartition(":")[0]
    first = where.split("/", 1)[0]
    return first.removesuffix(".py") if first else "?"


def top(path: Path, form: str, count: int = 15) -> list[str]:
    stacks = list(_raw_stacks(path) if form == "raw" else _speedscope_stacks(path))
    total = sum(n for _, n in stacks)
    if not total:
        return ["no samples (was anything running?)"]
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for frames, n in stacks:
        if frames:
            own[frames[-1]] += n
            packages[_package(frames[-1])] += n
        for frame in set(frames):
            if _package(frame) != "threading":  # every thread's bootstrap: 100 %, says nothing
                inclusive[frame] += n
    lines = [f"{total} samples; own time (the sampled frame) by package:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in packages.most_common(count)]
    lines += ["own time by function:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in own.most_common(count)]
    lines += ["inclusive time by function (on the stack):"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(count)]
    return lines


def ptrace_note() -> str | None:
    if os.geteuid() == 0:
        return None
    try:
        scope = Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip()
    except OSError:
        return None
    return None if scope == "0" else f"ptrace_scope is {scope}: py-spy needs root or CAP_SYS_PTRACE"
