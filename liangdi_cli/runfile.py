"""var/run.json: what `liangdi up` started, so `down` and `status` can find it."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from liangdi_cli.procs import Target, is_alive

RUN_FILE = "run.json"


@dataclass
class ProcInfo:
    name: str
    pid: int
    port: int
    url: str
    log: str
    ident: str | None = None
    restarts: int = 0  # times the supervisor started it again (`liangdi status` shows them)
    last_exit: int | None = None  # exit code of its last death, if it died

    def target(self, *, group: bool = True) -> Target:
        return Target(self.pid, self.ident, group=group)

    def alive(self) -> bool:
        return is_alive(self.pid, self.ident)


@dataclass
class RunInfo:
    var_dir: str
    base_port: int
    detached: bool
    nats: ProcInfo
    services: list[ProcInfo] = field(default_factory=list)
    supervisor: ProcInfo | None = None  # the foreground `liangdi up`, if any
    started_at: float = field(default_factory=time.time)
    state: str = "starting"  # "ready" once every service answered /readyz (a detached `up` waits)

    def everything(self) -> list[ProcInfo]:
        procs = [*self.services, self.nats]
        return procs if self.supervisor is None else [self.supervisor, *procs]

    def any_alive(self) -> bool:
        return any(p.alive() for p in self.everything())


def path(var_dir: Path) -> Path:
    return var_dir / RUN_FILE


def write(var_dir: Path, info: RunInfo) -> None:
    # Write-then-rename so a concurrent `status` never reads half a file.
    tmp = path(var_dir).with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2))
    os.replace(tmp, path(var_dir))


def read(var_dir: Path) -> RunInfo | None:
    try:
        data = json.loads(path(var_dir).read_text())
    except (OSError, ValueError):
        return None
    supervisor = data.get("supervisor")
    return RunInfo(
        var_dir=data["var_dir"],
        base_port=data["base_port"],
        detached=data["detached"],
        nats=ProcInfo(**data["nats"]),
        services=[ProcInfo(**s) for s in data.get("services", [])],
        supervisor=ProcInfo(**supervisor) if supervisor else None,
        started_at=data.get("started_at", 0.0),
        state=data.get("state", "ready"),
    )


def remove(var_dir: Path) -> None:
    path(var_dir).unlink(missing_ok=True)
