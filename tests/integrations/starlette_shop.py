"""A small Starlette shop with Sentiero mounted, as docs/integrations.md shows it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates

from sentiero_core import Settings, create_app, install_jinja

MOUNT = "/sentiero"
settings = Settings(store_url=os.environ.get("SHOP_SENTIERO_STORE", "memory://"), mount_path="/")
sentiero = create_app(settings)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
install_jinja(templates.env, settings, mount=MOUNT)


async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "home.html", {"title": "Starlette shop"})


async def cart(request: Request) -> Response:
    return templates.TemplateResponse(request, "cart.html")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await sentiero.startup()
    try:
        yield
    finally:
        await sentiero.shutdown()


app = Starlette(
    routes=[Route("/", home), Route("/cart/", cart, name="cart"), Mount(MOUNT, app=sentiero)],
    lifespan=lifespan,
)
