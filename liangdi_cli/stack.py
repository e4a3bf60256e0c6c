"""`up` and `down` for the embedded stack: NATS plus the services of a topology."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from liangdi_cli import devkeys, natsauth, runfile
from liangdi_cli.natsserver import NatsServerNotFound
from liangdi_cli.procs import identity, port_free, stop
from liangdi_cli.supervisor import (
    Child,
    StartFailed,
    start_nats,
    start_service,
    stop_children,
    wait_ready,
    watch,
)
from liangdi_cli.topology import DEFAULT_TOPOLOGY, ServiceSpec, nats_port, places, service_env


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
    var_dir = var_dir.resolve()
    problem = _preflight(var_dir, base_port, topology)
    if problem:
        console.print(f"[bold red]{problem}[/]")
        return 1
    dev = devkeys.load_or_create(
        var_dir, places(tuple(topology)), roles=devkeys.place_roles(topology)
    )
    stop_event = threading.Event()
    children: list[Child] = []
    with _stop_on_signals(stop_event):
        try:
            # Closed from the first second: only the generated users may log in, each to its
            # own subjects (docs/security.md, "NATS").
            origins, hosts = natsauth.roles_of(topology)
            passwords = {
                natsauth.password_variable(user): pw for user, pw in dev.nats_passwords.items()
            }
            nats = start_nats(
                nats_port(base_port),
                var_dir,
                detach=detach,
                authorization=natsauth.render(origins, hosts),
                passwords=passwords,
            )
            children.append(nats)
            try:
                natsauth.provision(nats.info.url, dev.nats_passwords[natsauth.SYNC_USER])
            except Exception as exc:
                raise StartFailed(nats, f"creating the streams as the sync user: {exc!r}") from exc
            for spec in topology:
                env = service_env(
                    spec,
                    var_dir=var_dir,
                    nats_url=nats.info.url,
                    jwt_secret=dev.jwt_secret,
                    cipher_key=dev.cipher_key,
                    signing_keys=dev.signing_keys,
                    trusted_keys=dev.trusted_keys,
                    identity_key=dev.identity_key,
                    nats_password=dev.nats_passwords[spec.place or natsauth.SYNC_USER],
                    sealing_keys=dev.sealing_keys,
                    sealing_peers=dev.sealing_peers,
                )
                children.append(
                    start_service(
                        spec, base_port=base_port, var_dir=var_dir, env=env, detach=detach
                    )
                )
            me = None if detach else runfile.ProcInfo("liangdi up", os.getpid(), 0, "", "")
            if me is not None:
                me.ident = identity(me.pid)
            info = runfile.RunInfo(
                str(var_dir), base_port, detach, nats.info, [c.info for c in children[1:]], me
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
        console.print("[bold green]ready[/]")
        if detach:
            console.print(f"running detached; stop with `liangdi down --var-dir {var_dir}`")
            return 0
        console.print("press Ctrl-C to stop")
        dead = watch(children, stop_event)
        if dead is not None:
            console.print(f"[bold red]{dead.name} exited with code {dead.exit_code()}[/]")
            console.print(dead.log_tail(), markup=False, highlight=False, soft_wrap=True)
            console.print("stopping the others")
            _shutdown(children, var_dir, console)
            return 1
        console.print("stopping")
        _shutdown(children, var_dir, console)
        console.print("stopped")
        return 0


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
