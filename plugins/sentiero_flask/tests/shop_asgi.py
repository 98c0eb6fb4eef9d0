"""The documented composition: the Flask shop and Sentiero in one ASGI app."""

from sentiero_flask.asgi import with_sentiero
from shop import create_app

application = with_sentiero(create_app())
