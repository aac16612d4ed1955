"""The Jinja2 environment of the server-rendered pages (the portal's, the console's): templates
from one directory, autoescaping on, an undefined name an error, and the page's own stylesheet as
a global. Jinja2 loads on the first page drawn, not at cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from jinja2 import Environment


def template_environment(
    directory: Path, *, styles: Mapping[str, str], values: Mapping[str, Any] | None = None
) -> Environment:
    """An environment over the templates in ``directory``; ``styles`` are our own stylesheets
    (marked safe: constants, never input), ``values`` other globals the templates read."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    from markupsafe import Markup

    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(values or {})
    env.globals.update({name: Markup(style) for name, style in styles.items()})  # noqa: S704
    return env
