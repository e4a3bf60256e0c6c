"""A small HTTP client for the liangdi services, used by the demo (and handy in a shell)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from shared.security.tokens import Role, issue_token


class ServiceError(RuntimeError):
    pass


class Api:
    """One service, acting with one role for one place."""

    def __init__(self, base_url: str, secret: str, role: Role, place: str = "*"):
        token = issue_token(secret, role=role, place=place, subject=f"demo-{role}")
        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def call(
        self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 204), **kwargs: Any
    ) -> Any:
        for attempt in range(5):
            response = self.http.request(method, path, **kwargs)
            if response.status_code == 409 and "concurrent" in response.text and attempt < 4:
                time.sleep(0.05 * (attempt + 1))  # optimistic concurrency: retry
                continue
            break
        if response.status_code not in expect:
            raise ServiceError(f"{method} {path} → {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.call("POST", path, json=body, **kwargs)

    def all_items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, params=params | {"offset": len(items), "limit": 500})
            items.extend(page["items"])
            if len(items) >= page["total"] or not page["items"]:
                return items
