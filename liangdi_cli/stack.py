"""`up` and `down` for the embedded stack: NATS plus the services of a topology."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from liangdi_cli import devkeys, natsauth, runfile
from liangdi_cli.natsserver import NatsServerNotFound
from liangdi_cli.procs import Target, identity, port_free, spawn, stop, tail
from liangdi_cli.restarting import Watched, request_restart, take_requests
from liangdi_cli.supervisor import (
    NATS_START_TIMEOUT,
    Child,
    StartFailed,
    http_client,
    readyz,
    start_nats,
    start_service,
    stop_children,
    wait_ready,
)
from liangdi_cli.topology import (
    DEFAULT_TOPOLOGY,
    ServiceSpec,
    nats_port,
    places,
    places_setting,
    service_env,
    write_trust_file,
)

PLAN_FILE = "supervisor.json"  # what a detached `up` hands to its supervisor process


@contextlib.contextmanager
def _stop_on_signals(event: threading.Event) -> Iterator[None]:
    # Turn SIGINT/SIGTERM/SIGHUP into a flag so shutdown runs in order
    # (services, then NATS) instead of unwinding from wherever we were.
    wanted = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda *_: event.set()) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _shutdown(children: Sequence[Child], var_dir: Path, console: Console) -> None:
    services = [c for c in children if c.name != "nats"]
    nats = [c for c in children if c.name == "nats"]
    killed = stop_children(services) + stop_children(nats)
    for name in killed:
        console.print(f"[yellow]{name} did not stop in time and was killed[/]")
    runfile.remove(var_dir)


def _report_failure(exc: StartFailed, console: Console) -> None:
    console.print(f"[bold red]{exc.child.name} failed:[/] {exc.reason}")
    console.rule(f"last lines of {exc.child.info.log}")
    console.print(exc.child.log_tail(), markup=False, highlight=False, soft_wrap=True)
    console.rule()


def _short(path: str) -> str:
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else path


def urls_table(children: Sequence[Child]) -> Table:
    table = Table(title="liangdi (embedded, development)")
    for column in ("service", "pid", "URL", "log"):
        table.add_column(column)
    for child in children:
        table.add_row(child.name, str(child.info.pid), child.info.url, _short(child.info.log))
    return table


def _preflight(var_dir: Path, base_port: int, topology: Sequence[ServiceSpec]) -> str | None:
    existing = runfile.read(var_dir)
    if existing is not None and existing.any_alive():
        return f"already running from {runfile.path(var_dir)}: run `liangdi down` first"
    try:
        ports = {"nats": nats_port(base_port)}
    except ValueError as exc:
        return str(exc)
    ports.update({spec.name: spec.port(base_port) for spec in topology})
    busy = [f"{name} ({port})" for name, port in ports.items() if not port_free(port)]
    if busy:
        return "ports already in use: " + ", ".join(busy) + "; try another --base-port"
    return None


def up(
    var_dir: Path,
    base_port: int,
    *,
    detach: bool,
    timeout: float,
    console: Console,
    topology: Sequence[ServiceSpec] = DEFAULT_TOPOLOGY,
) -> int:
    """Start the stack and keep it up. Detached, a supervisor process of its own does the
    keeping (restarts with backoff) and this returns once every service is ready."""
    var_dir = var_dir.resolve()
    problem = _preflight(var_dir, base_port, topology)
    if problem:
        console.print(f"[bold red]{problem}[/]")
        return 1
    if detach:
        return _up_detached(var_dir, base_port, timeout, console, topology)
    return _run(var_dir, base_port, timeout=timeout, console=console, topology=topology)


def _run(
    var_dir: Path,
    base_port: int,
    *,
    timeout: float,
    console: Console,
    topology: Sequence[ServiceSpec],
    detached: bool = False,
) -> int:
    """The supervisor: starts NATS and the services, then restarts whichever dies."""
    dev = devkeys.load_or_create(
        var_dir, places(tuple(topology)), roles=devkeys.place_roles(topology)
    )
    stop_event = threading.Event()
    children: list[Child] = []
    starters: dict[str, Callable[[], Child]] = {}
    with _stop_on_signals(stop_event):
        try:
            # Closed from the first second: only the generated users may log in, each to its
            # own subjects (docs/security.md, "NATS").
            origins, hosts = natsauth.roles_of(topology)
            passwords = {
                natsauth.password_variable(user): pw for user, pw in dev.nats_passwords.items()
            }
            sync_password = dev.nats_passwords[natsauth.SYNC_USER]

            def start_nats_child() -> Child:
                child = start_nats(
                    nats_port(base_port),
                    var_dir,
                    authorization=natsauth.render(origins, hosts),
                    passwords=passwords,
                )
                try:
                    natsauth.provision(child.info.url, sync_password)
                except Exception as exc:
                    stop_children([child])
                    reason = f"creating the streams as the sync user: {exc!r}"
                    raise StartFailed(child, reason) from exc
                return child

            starters["nats"] = start_nats_child
            nats = start_nats_child()
            children.append(nats)
            trust_file = write_trust_file(var_dir, topology, dev)
            for spec in topology:
                env = service_env(
                    spec,
                    var_dir=var_dir,
                    nats_url=nats.info.url,
                    jwt_secret=dev.jwt_secret,
                    cipher_key=dev.cipher_key,
                    signing_keys=dev.signing_keys,
                    trusted_keys="",  # in the topology file instead (docs/operations.md)
                    identity_key=dev.identity_key,
                    nats_password=dev.nats_passwords[spec.place or natsauth.SYNC_USER],
                    sealing_keys=dev.sealing_keys,
                    topology_file=str(trust_file),
                    exchange_places=places_setting(topology),
                )
                starters[spec.name] = functools.partial(
                    start_service, spec, base_port=base_port, var_dir=var_dir, env=env, detach=False
                )
                children.append(starters[spec.name]())
            me = runfile.ProcInfo("liangdi up", os.getpid(), 0, "", "", identity(os.getpid()))
            info = runfile.RunInfo(
                str(var_dir), base_port, detached, nats.info, [c.info for c in children[1:]], me
            )
            runfile.write(var_dir, info)
            console.print(urls_table(children))
            if not wait_ready(children[1:], timeout, stop_event):
                console.print("interrupted while starting; stopping")
                _shutdown(children, var_dir, console)
                return 130
        except NatsServerNotFound as exc:
            console.print(f"[bold red]{exc}[/]")
            return 1
        except StartFailed as exc:
            _report_failure(exc, console)
            _shutdown(children, var_dir, console)
            return 1
        except BaseException:
            _shutdown(children, var_dir, console)
            raise
        info.state = "ready"
        runfile.write(var_dir, info)
        console.print("[bold green]ready[/]")
        if not detached:
            console.print("press Ctrl-C to stop; a service that dies is started again")
        try:
            _keep_up(children, starters, info, var_dir, stop_event, console)
        finally:
            console.print("stopping")
            _shutdown(children, var_dir, console)
        console.print("stopped")
        return 0


def _keep_up(
    children: list[Child],
    starters: dict[str, Callable[[], Child]],
    info: runfile.RunInfo,
    var_dir: Path,
    stop_event: threading.Event,
    console: Console,
) -> None:
    """Until stop_event: start again each child that died (after its backoff) or that an
    operator asked to restart (`liangdi restart`, at once). children[0] is NATS."""
    watched = {child.name: Watched() for child in children}
    while not stop_event.wait(0.25):
        for name in take_requests(var_dir):
            child = next((c for c in children if c.name == name), None)
            if child is None:
                console.print(f"[yellow]restart requested for unknown {name!r}[/]")
                continue
            console.print(f"restarting {name} (requested)")
            watched[name].requested = True
            if child.exit_code() is None:
                stop_children([child])
            elif watched[name].due is not None:  # already waiting out a backoff: no longer
                watched[name].due = time.monotonic()
        for index, child in enumerate(children):
            state = watched[child.name]
            if child.exit_code() is None or stop_event.is_set():
                continue
            now = time.monotonic()
            if state.due is None:
                child.info.last_exit = child.exit_code()
                requested = state.requested
                wait = state.died(now)
                if not requested:
                    console.print(
                        f"[bold red]{child.name} exited with code {child.info.last_exit}[/]; "
                        f"starting it again in {wait:.0f} s"
                    )
                    console.print(child.log_tail(), markup=False, highlight=False, soft_wrap=True)
            if now < (state.due or 0.0):
                continue
            try:
                fresh = starters[child.name]()
            except StartFailed as exc:
                console.print(f"[red]{child.name} did not start again: {exc.reason}[/]")
                exc.child.info.restarts = child.info.restarts
                exc.child.info.last_exit = exc.child.exit_code()
                children[index] = exc.child
                state.due = None  # the next round counts it as one more failure
                continue
            fresh.info.restarts = child.info.restarts + 1
            fresh.info.last_exit = child.info.last_exit
            children[index] = fresh
            state.restarted(time.monotonic())
            info.nats, info.services = children[0].info, [c.info for c in children[1:]]
            runfile.write(var_dir, info)
            console.print(f"[green]{child.name} started again (pid {fresh.info.pid})[/]")


def _up_detached(
    var_dir: Path,
    base_port: int,
    timeout: float,
    console: Console,
    topology: Sequence[ServiceSpec],
) -> int:
    """Runs the supervisor (`_run`) as a process of its own session and waits for it to be
    ready: it outlives this command and restarts what dies, like the foreground `up`."""
    var_dir.mkdir(parents=True, exist_ok=True)
    plan = {"base_port": base_port, "timeout": timeout, "topology": [asdict(s) for s in topology]}
    runfile.path(var_dir).with_name(PLAN_FILE).write_text(json.dumps(plan))
    log = var_dir / "logs" / "supervisor.log"
    argv = [sys.executable, "-m", "liangdi_cli.stack", str(var_dir)]
    supervisor = spawn(argv, env=dict(os.environ), log_path=log, detach=True)
    deadline = time.monotonic() + timeout + NATS_START_TIMEOUT + 30
    while True:
        code = supervisor.poll()
        if code is not None:
            console.print(f"[bold red]the supervisor exited with code {code}[/]")
            console.rule(f"last lines of {log}")
            console.print(tail(log, 40), markup=False, highlight=False, soft_wrap=True)
            console.rule()
            return 1
        info = runfile.read(var_dir)
        mine = info is not None and info.supervisor is not None
        if mine and info.supervisor.pid == supervisor.pid and info.state == "ready":
            break
        if time.monotonic() > deadline:
            console.print(f"[bold red]not ready in time; stopping (see {_short(str(log))})[/]")
            stop([Target(supervisor.pid, popen=supervisor, group=False)], timeout * 2 + 5)
            return 1
        time.sleep(0.2)
    # It outlives us on purpose; the mark stops Popen from warning that it is still running.
    supervisor.returncode = 0
    table = Table(title="liangdi (embedded, development)")
    for column in ("service", "pid", "URL", "log"):
        table.add_column(column)
    for proc in (info.nats, *info.services):
        table.add_row(proc.name, str(proc.pid), proc.url, _short(proc.log))
    console.print(table)
    console.print(f"[bold green]ready[/]: supervised by pid {supervisor.pid} ({_short(str(log))})")
    console.print(f"running detached; stop with `liangdi down --var-dir {var_dir}`")
    return 0


def restart(var_dir: Path, name: str, *, timeout: float, console: Console) -> int:
    """Asks the running supervisor to restart one child and waits until it is back."""
    var_dir = var_dir.resolve()
    info = runfile.read(var_dir)
    if info is None or info.supervisor is None or not info.supervisor.alive():
        console.print("[bold red]no supervisor running here: start the stack with `liangdi up`[/]")
        return 1
    procs = {p.name: p for p in (info.nats, *info.services)}
    if name not in procs:
        console.print(f"[bold red]no {name!r} here; one of: {', '.join(procs)}[/]")
        return 1
    before = procs[name]
    request_restart(var_dir, name)
    deadline = time.monotonic() + timeout
    with http_client() as client:
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = runfile.read(var_dir)
            procs_now = (now.nats, *now.services) if now else ()
            proc = next((p for p in procs_now if p.name == name), None)
            if proc is None or proc.pid == before.pid or not proc.alive():
                continue
            if name == "nats" or readyz(client, proc.url)[0]:
                console.print(f"[green]{name} restarted: pid {before.pid} → {proc.pid}[/]")
                return 0
    console.print(f"[bold red]{name} was not back within {timeout:.0f} s; see its log[/]")
    return 1


def down(var_dir: Path, *, timeout: float, console: Console) -> int:
    var_dir = var_dir.resolve()
    info = runfile.read(var_dir)
    if info is None:
        console.print("nothing running (no run.json)")
        return 0
    sup = info.supervisor
    if sup is not None and sup.pid != os.getpid() and sup.alive():
        # A foreground `up` stops its own children in order; give it the time to.
        stop([sup.target(group=False)], timeout=timeout * 2 + 5)
    leftovers = [p for p in info.services if p.alive()]
    killed = stop([p.target() for p in leftovers], timeout)
    if info.nats.alive():
        killed += stop([info.nats.target()], timeout)
    for target in killed:
        console.print(f"[yellow]pid {target.pid} did not stop in time and was killed[/]")
    runfile.remove(var_dir)
    console.print("stopped")
    return 0


def _main(argv: list[str]) -> int:
    """The detached supervisor process: `python -m liangdi_cli.stack VAR_DIR`."""
    var_dir = Path(argv[0])
    plan = json.loads((var_dir / PLAN_FILE).read_text())
    topology = tuple(ServiceSpec(**spec) for spec in plan["topology"])
    console = Console(width=160)
    problem = _preflight(var_dir, plan["base_port"], topology)
    if problem:
        console.print(problem)
        return 1
    return _run(
        var_dir,
        plan["base_port"],
        timeout=plan["timeout"],
        console=console,
        topology=topology,
        detached=True,
    )


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
