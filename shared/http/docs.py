"""The interactive API documentation (`/docs`, `/redoc`) with assets that ship with the package.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN, which a government network
without internet access cannot reach: the page stays blank. The files under `static/` are the
unmodified releases named in `static/README.md`; they are served from this process, beside the
OpenAPI document they render.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static" / "docs"
ASSETS = "/docs/assets"  # outside DOCS_PATHS: the assets are public code, never data
# The pages may load from this origin only. Swagger UI starts from an inline script and both
# inject styles; ReDoc searches in a blob: worker. ReDoc's footer logo is an image on its CDN:
# refused here, it is simply not shown. The security headers keep a CSP a route sets.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'"
)


def _own_origin_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CSP
    return page


def install_docs(app: FastAPI) -> None:
    """`/docs`, its OAuth2 redirect and `/redoc`, for an app built with docs_url=redoc_url=None."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")

    def assets(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/") + ASSETS

    def openapi_url(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/") + (app.openapi_url or "")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{assets(request)}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{assets(request)}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{assets(request)}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            # Otherwise Swagger UI sends the document to validator.swagger.io for a badge.
            swagger_ui_parameters={"validatorUrl": None},
        )
        return _own_origin_only(page)

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets(request)}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{assets(request)}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,  # fonts.googleapis.com is as unreachable as a CDN
        )
        return _own_origin_only(page)
