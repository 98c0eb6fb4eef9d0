"""A small Flask shop using sentiero-flask, as a user would set it up."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, render_template, request
from sentiero_flask import Sentiero


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config["SENTIERO"] = {
        "store_url": os.environ.get("SHOP_SENTIERO_STORE", "memory://"),
        "session_sample_rate": 1.0,
    }
    app.config.update(config)
    Sentiero(app)

    @app.get("/")
    def home() -> str:
        return render_template("home.html", nonce=request.args.get("nonce"))

    @app.get("/cart/")
    def cart() -> str:
        return render_template("cart.html")

    @app.get("/boom/")
    def boom() -> str:
        raise LookupError("order 999 does not exist")

    return app
