"""``{% load sentiero %}`` then ``{% sentiero_script_tag %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from sentiero_core import script_tag

from ..conf import get_settings

register = template.Library()


@register.simple_tag(takes_context=True)
def sentiero_script_tag(context: template.Context, **options: Any) -> SafeString:
    """The recorder's ``<script>`` tag; options as :func:`sentiero_core.script_tag`
    (``{% sentiero_script_tag nonce=request.csp_nonce %}``). Without
    ``public_url`` or ``base_url``, the request's script prefix
    (``SCRIPT_NAME``, the ASGI root path) prefixes the mount."""
    settings = get_settings()
    request = context.get("request")
    if "base_url" not in options and settings.public_url is None and request is not None:
        options["base_url"] = str(request.META.get("SCRIPT_NAME") or "").rstrip("/")
    return mark_safe(str(script_tag(settings, **options)))
