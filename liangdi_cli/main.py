"""The `liangdi` command: run the embedded stack on one machine, and more."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from liangdi_cli import devkeys, runfile
from liangdi_cli.export import export
from liangdi_cli.natsserver import answers
from liangdi_cli.supervisor import http_client, readyz
from liangdi_cli.topology import DEFAULT_TOPOLOGY, places

app = typer.Typer(
    name="liangdi",
    help="两地共管 — run and operate the outflow, inflow and sync services.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()

VarDir = typer.Option(
    Path("var"), "--var-dir", help="Where databases, logs, keys and run.json live."
)


@app.command()
def up(
    base_port: int = typer.Option(
        8000, help="sync on base, the others on base+1..; NATS on 4223 shifted alike."
    ),
    detach: bool = typer.Option(
        False, "--detach", "-d", help="Return once ready; stop with `down`."
    ),
    var_dir: Path = VarDir,
    timeout: float = typer.Option(60.0, help="Seconds to wait for every /readyz to answer 200."),
    topology: Path | None = typer.Option(
        None,
        "--topology",
        envvar="LIANGDI_TOPOLOGY_FILE",
        help="Places file (deploy/topology.example.toml); default: the three example places.",
    ),
) -> None:
    """Start NATS (JetStream) and all services locally, for development.

    A service or NATS that dies is started again, with a growing wait if it keeps dying
    (`liangdi status` counts the restarts). In the foreground Ctrl-C stops everything.
    """
    from liangdi_cli import stack  # keeps `liangdi --help` fast
    from liangdi_cli.topology import from_file
    from shared.topology_file import TopologyError

    try:
        specs = from_file(topology) if topology is not None else DEFAULT_TOPOLOGY
    except TopologyError as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    code = stack.up(
        var_dir, base_port, detach=detach, timeout=timeout, console=console, topology=specs
    )
    raise typer.Exit(code)


@app.command()
def restart(
    service: str = typer.Argument(..., help="A name `liangdi status` lists, e.g. inflow-310115."),
    var_dir: Path = VarDir,
    timeout: float = typer.Option(60.0, help="Seconds to wait for it to be ready again."),
) -> None:
    """Restart one service (or nats) of the running stack, at once, and wait until it is back."""
    from liangdi_cli import stack

    raise typer.Exit(stack.restart(var_dir, service, timeout=timeout, console=console))


@app.command()
def rebuild(
    service: str = typer.Argument(..., help="outflow-371326, inflow-310115, ..."),
    read_model: list[str] = typer.Option(
        [], "--read-model", "-m", help="Only these read models (default: all of the service)."
    ),
    reason: str = typer.Option("rebuilt by an operator with `liangdi rebuild`", "--reason"),
    var_dir: Path = VarDir,
    url: str | None = typer.Option(None, help="The service's URL (default: from run.json)."),
    offline: bool = typer.Option(
        False, "--offline", help="The service is stopped: reset its read models in the database."
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="With --offline (default: the `liangdi up` database)."
    ),
    wait: float = typer.Option(120.0, help="Seconds to wait for an online rebuild to catch up."),
) -> None:
    """Drop and rebuild a service's read models from its event store (docs/operations.md)."""
    from liangdi_cli import rebuild as rebuilding

    raise typer.Exit(
        rebuilding.run(
            service,
            read_models=read_model,
            reason=reason,
            var_dir=var_dir.resolve(),
            url=url,
            offline=offline,
            database_url=database_url,
            wait=wait,
            console=console,
        )
    )


@app.command()
def down(
    var_dir: Path = VarDir,
    timeout: float = typer.Option(10.0, help="Seconds to wait after SIGTERM before SIGKILL."),
) -> None:
    """Stop what `liangdi up` started (as listed in var/run.json). Safe to repeat."""
    from liangdi_cli import stack

    raise typer.Exit(stack.down(var_dir, timeout=timeout, console=console))


@app.command()
def status(var_dir: Path = VarDir) -> None:
    """Show each service's /readyz answer. Exit code 0 only if all are ready."""
    info = runfile.read(var_dir.resolve())
    if info is None:
        console.print("not running (no run.json)")
        raise typer.Exit(1)
    table = Table(title=f"liangdi status ({info.var_dir})")
    for column in ("service", "pid", "alive", "restarts", "URL", "readyz"):
        table.add_column(column)
    all_ready = True
    nats_ok = answers(info.nats.port)
    all_ready &= nats_ok
    nats = info.nats
    table.add_row(
        "nats", str(nats.pid), _yes(nats.alive()), _restarts(nats), nats.url, _ok(nats_ok, "INFO")
    )
    with http_client() as client:
        for proc in info.services:
            ready, detail = readyz(client, proc.url)
            all_ready &= ready
            table.add_row(
                proc.name,
                str(proc.pid),
                _yes(proc.alive()),
                _restarts(proc),
                proc.url,
                _ok(ready, detail),
            )
    console.print(table)
    sup = info.supervisor
    if sup is not None:
        watching = "[green]restarting what dies[/]" if sup.alive() else "[red]not running[/]"
        console.print(f"supervisor: pid {sup.pid}, {watching}")
    if not info.any_alive():
        console.print("stale run.json: nothing is running; `liangdi down` tidies it")
    raise typer.Exit(0 if all_ready else 1)


@app.command("compose-env")
def compose_env(
    var_dir: Path = VarDir,
    output: Path | None = typer.Option(None, help="Default: <var-dir>/compose.env."),
) -> None:
    """Write development secrets for docker-compose.yml (dev only!).

    Use with: docker compose --env-file var/compose.env up --build
    """
    dev = devkeys.load_or_create(var_dir.resolve(), places(DEFAULT_TOPOLOGY))
    # Under var/ by default because var/ is git-ignored and a root .env is not.
    output = output or var_dir / "compose.env"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.touch(mode=0o600)
    output.chmod(0o600)
    output.write_text("\n".join(devkeys.compose_env_lines(dev)) + "\n")
    console.print(f"wrote {output} (development secrets; never use them in production)")
    console.print(f"run: docker compose --env-file {output} up --build")


def _restarts(proc: runfile.ProcInfo) -> str:
    if not proc.restarts:
        return "0"
    return f"[yellow]{proc.restarts}[/] (exit {proc.last_exit})"


def _yes(flag: bool) -> str:
    return "[green]yes[/]" if flag else "[red]no[/]"


def _ok(flag: bool, detail: str) -> str:
    return f"[green]{detail}[/]" if flag else f"[red]{detail}[/]"


def _unavailable(name: str, exc: ImportError) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name == f"liangdi_cli.{name}":
        return f"`liangdi {name}` is not available in this build (liangdi_cli/{name}.py missing)."
    return f"`liangdi {name}` could not be loaded: {exc}"


def _register_placeholder(name: str, exc: ImportError) -> None:
    message = _unavailable(name, exc)
    passthrough = {"allow_extra_args": True, "ignore_unknown_options": True}

    @app.command(name, context_settings=passthrough, help=message)
    def placeholder() -> None:
        console.print(f"[red]{message}[/]")
        raise typer.Exit(1)


def _register_optional_commands() -> None:
    # demo.py and token.py are written separately; the CLI must still work
    # (up/down/status) when either is absent or broken.
    try:
        from liangdi_cli.demo import demo
    except ImportError as exc:
        _register_placeholder("demo", exc)
    else:
        app.command("demo")(demo)

    try:
        from liangdi_cli.token import token_app
    except ImportError as exc:
        _register_placeholder("token", exc)
    else:
        app.add_typer(token_app, name="token")


_register_optional_commands()
app.command("export")(export)  # reports for the county leadership (CSV, XLSX)
app.command("bench")(__import__("liangdi_cli.bench", fromlist=["bench"]).bench)

if __name__ == "__main__":
    app()
