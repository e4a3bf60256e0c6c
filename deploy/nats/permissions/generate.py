#!/usr/bin/env python3
"""Writes the nats-server `authorization` block for liangdi: one user per place, one for sync.

The rules live in liangdi_cli/natsauth.py (`liangdi up` generates the same block at start from its
topology); see there, and docs/security.md ("NATS"), for what each user may do.

    python deploy/nats/permissions/generate.py --topology deploy/topology.example.toml \
        > deploy/nats/permissions/authorization.conf
    python deploy/nats/permissions/generate.py --origin 371326 --host 310115 --host 310112

The topology file (docs/operations.md, "Places") is the same one `liangdi up` and the services
read; --origin/--host add places to it or stand alone.

Passwords are references to environment variables of the nats-server process
(`$NATS_PASSWORD_SYNC`, `$NATS_PASSWORD_PLACE_<place>`), so the file holds no secret.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from liangdi_cli.natsauth import (  # noqa: E402
    place_permissions,
    render,
    sync_permissions,
    user_name,
)
from shared.topology_file import TopologyError, load, with_role  # noqa: E402

__all__ = ["place_permissions", "render", "sync_permissions", "user_name", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--origin", action="append", default=[], help="origin county code")
    parser.add_argument("--host", action="append", default=[], help="host district code")
    parser.add_argument("--topology", help="places file (TOML): its origins and hosts")
    args = parser.parse_args(argv)
    if args.topology:
        try:
            places = load(args.topology)
        except TopologyError as exc:
            parser.error(str(exc))
        args.origin = with_role(places, "origin") + args.origin
        args.host = with_role(places, "host") + args.host
    for place in args.origin + args.host:
        if len(place) != 6 or not place.isdigit():
            parser.error(f"{place!r} is not a 6-digit place code")
    sys.stdout.write(render(args.origin, args.host))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
