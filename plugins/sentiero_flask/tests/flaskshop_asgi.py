"""The documented composition: the Flask shop and Sentiero in one ASGI app."""

from flaskshop import create_app
from sentiero_flask.asgi import with_sentiero

application = with_sentiero(create_app())
