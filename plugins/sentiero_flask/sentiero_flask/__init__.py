"""sentiero-flask: Sentiero in a Flask app.

::

    from flask import Flask
    from sentiero_flask import Sentiero

    app = Flask(__name__)
    app.config["SENTIERO"] = {"store_url": "sqlite:///sentiero.db"}
    Sentiero(app)  # or sentiero = Sentiero(); sentiero.init_app(app)

Templates get ``{{ sentiero_script_tag() }}``; the reporter's WSGI
middleware is installed when ``sentiero-reporter`` is configured (unless
``SENTIERO_REPORTER_MIDDLEWARE`` is False); ``flask sentiero purge`` and
``flask sentiero erase`` take the flags of ``sentiero purge|erase``. The
dashboard runs beside the app (``sentiero serve``) or in one ASGI
application with it (:func:`sentiero_flask.asgi.with_sentiero`).
"""

from __future__ import annotations

from .extension import Sentiero, get_settings

__all__ = ["Sentiero", "get_settings"]
