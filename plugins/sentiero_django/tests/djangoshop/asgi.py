"""The documented asgi.py recipe."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djangoshop.settings")

from sentiero_django.asgi import with_sentiero

application = with_sentiero(get_asgi_application())
