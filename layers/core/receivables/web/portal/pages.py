"""The portal's pages: Jinja2 templates (autoescaped), in the customer's language.

Amounts and dates are written the way the customer's locale writes them (Babel); the words come
from `WORDS` (en, fr, de). Every page works without JavaScript and reads well on a phone.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receivables.documents.words import LANGUAGES, WORDS, day, money
from receivables.web.templating import template_environment

if TYPE_CHECKING:
    from jinja2 import Environment

# The portal's one stylesheet, inline in every page's <style> and allowed there by its hash
# (`receivables.web.security_headers`): change it here, never in a template.
PORTAL_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#111;background:#f6f7f9}\n"
    "header{background:#1d2330;color:#fff;padding:.8rem 1rem;display:flex;flex-wrap:wrap;gap:.6rem;"
    "align-items:center;justify-content:space-between}\n"
    "header h1{font-size:1.1rem;margin:0}header form{display:inline;margin:0}\n"
    "main{max-width:56rem;margin:0 auto;padding:1rem}\n"
    "section{background:#fff;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem;"
    "box-shadow:0 1px 2px #0002;overflow-x:auto}\n"
    "h2{font-size:1.05rem;margin:.2rem 0 .6rem}table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee;white-space:nowrap}\n"
    "td.n,th.n{text-align:right}.late{color:#9b1c1c;font-weight:600}.muted{color:#555}\n"
    "button,select,input{font:inherit;padding:.3rem .5rem}\n"
    "button{background:#1a56db;color:#fff;border:0;border-radius:6px;padding:.4rem .9rem;cursor:pointer}\n"
    "header button,button.secondary{background:#3b4458}.errors{color:#9b1c1c}\n"
    "@media (max-width:600px){\n"
    "table.cards tr:first-child{display:none}\n"
    "table.cards tr{display:block;border-bottom:1px solid #ddd;padding:.4rem 0}\n"
    "table.cards td{display:flex;justify-content:space-between;gap:1rem;border:0;padding:.1rem 0;"
    "white-space:normal}\n"
    "table.cards td:empty{display:none}\n"
    "table.cards td::before{content:attr(data-label);color:#555}\n"
    "}\n"
)


@cache
def environment() -> Environment:
    """The template environment (built once): autoescaping on, undefined names an error."""
    return template_environment(
        Path(__file__).parent / "templates",
        styles={"portal_style": PORTAL_STYLE},
        values={"LANGUAGES": LANGUAGES},
    )


def render(template: str, language: str, **values: Any) -> str:
    """``template`` rendered in ``language``: ``t`` gives the words, ``money`` and ``day`` format."""
    words = WORDS[language]
    return (
        environment()
        .get_template(template)
        .render(
            lang=language,
            t=words.__getitem__,
            money=lambda amount: money(amount, language),
            day=lambda value: day(value, language),
            **values,
        )
    )
