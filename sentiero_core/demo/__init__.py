"""The demo: a small todo app recorded by Sentiero, with the dashboard
behind HTTP Basic auth (``demo`` / ``demo``)."""

from .app import create_demo_app

__all__ = ["create_demo_app"]
