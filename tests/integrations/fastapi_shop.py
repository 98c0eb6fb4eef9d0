"""A small FastAPI shop with Sentiero mounted, as docs/integrations.md shows it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from sentiero_core import Settings, create_app, install_jinja

MOUNT = "/sentiero"
# mount_path "/": the prefix is the Mount's (Starlette passes it as root_path)
settings = Settings(store_url=os.environ.get("SHOP_SENTIERO_STORE", "memory://"), mount_path="/")
sentiero = create_app(settings)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Starlette does not pass lifespan events on to mounted apps.
    await sentiero.startup()
    try:
        yield
    finally:
        await sentiero.shutdown()


app = FastAPI(lifespan=lifespan)
app.mount(MOUNT, sentiero)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
install_jinja(templates.env, settings, mount=MOUNT)


@app.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "home.html", {"title": "FastAPI shop"})


@app.get("/cart/", response_class=HTMLResponse)
async def cart(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "cart.html")
