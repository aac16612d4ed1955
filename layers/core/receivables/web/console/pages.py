"""The console's templates (Jinja2, autoescaped, undefined names an error) and its stylesheet.

The stylesheet is inline in every page's ``<style>`` and allowed there by its hash
(`receivables.web.security_headers`): change it here, never in a template.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receivables.web.templating import template_environment

if TYPE_CHECKING:
    from jinja2 import Environment

CONSOLE_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#111;background:#f4f5f7}\n"
    "header{background:#1d2330;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.8rem;"
    "align-items:center;justify-content:space-between}\n"
    "header a{color:#fff;margin-right:1rem}header form{display:inline;margin:0}\n"
    "header .who{color:#cfd6e4}\n"
    "main{max-width:72rem;margin:0 auto;padding:1rem}\n"
    "section{background:#fff;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem;"
    "box-shadow:0 1px 2px #0002;overflow-x:auto}\n"
    "h1{font-size:1.3rem;margin:.2rem 0 .8rem}h2{font-size:1.05rem;margin:.2rem 0 .6rem}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top}\n"
    "td.n,th.n{text-align:right;white-space:nowrap}.late{color:#9b1c1c;font-weight:600}.muted{color:#555}\n"
    "a{color:#1a56db}button,select,input,textarea{font:inherit;padding:.3rem .5rem}\n"
    "button{background:#1a56db;color:#fff;border:0;border-radius:6px;padding:.35rem .8rem;cursor:pointer}\n"
    "header button{background:#3b4458}.errors{color:#9b1c1c}.notice{color:#0b6b2e}\n"
    "form.inline{display:inline;margin:0}form.stack label{display:block;margin:.4rem 0 .1rem}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}\n"
    ".figure{font-size:1.4rem;font-weight:600}\n"
)


@cache
def environment() -> Environment:
    """The template environment (built once): autoescaping on, undefined names an error."""
    return template_environment(Path(__file__).parent / "templates", styles={"console_style": CONSOLE_STYLE})


def render(template: str, **values: Any) -> str:
    """``template`` rendered with ``values``."""
    return environment().get_template(template).render(**values)
