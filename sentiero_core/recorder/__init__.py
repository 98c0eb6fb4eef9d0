"""Serving the recorder: ``<mount>/recorder.js`` and the script-tag helpers."""

from .tag import install_jinja, script_tag

__all__ = ["install_jinja", "script_tag"]
