"""How every liangdi process connects to NATS: reconnecting for ever, as its own NATS user, with an
inbox prefix of its own (what the per-place permissions of deploy/nats/permissions allow replies
on) and, when configured, over TLS.

Credentials and TLS come from the settings (`LIANGDI_NATS_USER`, `LIANGDI_NATS_PASSWORD`,
`LIANGDI_NATS_TLS_CA`, `LIANGDI_NATS_TLS_CERT`, `LIANGDI_NATS_TLS_KEY`); see docs/security.md.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client

log = logging.getLogger(__name__)


def inbox_prefix(owner: str) -> str:
    """`_INBOX.<place>` for a place's services, `_INBOX.sync` for the exchange's."""
    return f"_INBOX.{owner}"


@dataclass(frozen=True)
class NatsAccess:
    """Where and as whom to connect. A plain list of URLs stays accepted by `connect` (anonymous,
    no TLS): tools and tests against an open server."""

    servers: list[str]
    user: str = ""
    password: str = ""
    tls: ssl.SSLContext | None = None

    def __repr__(self) -> str:  # never the password, in logs or tracebacks
        return f"NatsAccess(servers={self.servers!r}, user={self.user!r}, tls={bool(self.tls)})"


def tls_context(ca: str, cert: str = "", key: str = "") -> ssl.SSLContext:
    """Verifies the server against `ca` (hostname included); presents `cert`/`key` when given,
    for servers that require client certificates."""
    if bool(cert) != bool(key):
        raise ValueError("LIANGDI_NATS_TLS_CERT and LIANGDI_NATS_TLS_KEY go together")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert:
        context.load_cert_chain(cert, key)
    return context


def nats_access(settings: Any) -> NatsAccess:
    """The NatsAccess a service's settings describe (a ServiceSettings of shared/config.py)."""
    if (settings.nats_tls_cert or settings.nats_tls_key) and not settings.nats_tls_ca:
        raise ValueError("LIANGDI_NATS_TLS_CERT/KEY need LIANGDI_NATS_TLS_CA")
    if not settings.nats_user:
        log.warning(
            "LIANGDI_NATS_USER is not set: connecting to NATS anonymously, which every shipped "
            "NATS setup refuses (docs/security.md, NATS permissions)"
        )
    tls = None
    if settings.nats_tls_ca:
        tls = tls_context(settings.nats_tls_ca, settings.nats_tls_cert, settings.nats_tls_key)
    return NatsAccess(
        servers=settings.nats_servers,
        user=settings.nats_user,
        password=settings.nats_password.get_secret_value(),
        tls=tls,
    )


def connect_options(access: NatsAccess | list[str]) -> dict[str, Any]:
    """Keyword arguments for `nats.connect` (also for tools that connect their own way)."""
    if not isinstance(access, NatsAccess):
        return {"servers": list(access)}
    options: dict[str, Any] = {"servers": access.servers}
    if access.user:
        options |= {"user": access.user, "password": access.password}
    if access.tls is not None:
        options["tls"] = access.tls
    return options


def _server(nc: Client) -> str:
    """host:port of the server `nc` is connected to (never credentials a URL may carry)."""
    url = nc.connected_url
    return f"{url.hostname}:{url.port}" if url is not None else "?"


async def connect(access: NatsAccess | list[str], *, name: str, owner: str) -> Client:
    """`name` is how the connection shows in the NATS monitoring pages (`/connz`) and in this
    process's log lines: `liangdi-<service>-<place>` (liangdi-sync for the exchange)."""
    nc = Client()

    async def disconnected() -> None:
        if not nc.is_closed:  # also called when closed on purpose: nothing to report then
            log.warning("NATS connection %s lost; reconnecting", name)

    async def reconnected() -> None:
        log.info("NATS connection %s back, to %s", name, _server(nc))

    options = connect_options(access)
    if isinstance(access, NatsAccess) and access.tls is not None and access.user:
        # nats-py switches to TLS only when the server's greeting asks for it: with TLS
        # configured, the password goes to no server that did not (someone in the middle
        # answering in clear would otherwise read it).
        def password_over_tls() -> str:
            if not nc._server_info.get("tls_required"):
                raise ConnectionError("the NATS server did not require TLS: no credentials sent")
            return access.password

        options["password"] = password_over_tls
    await nc.connect(
        **options,
        name=name,
        inbox_prefix=inbox_prefix(owner),
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=3,
        allow_reconnect=True,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
    )
    log.info("NATS connection %s open, to %s", name, _server(nc))
    return nc
