"""Small, self-contained HTML pages for customers (the pay link's answers).

No template engine and no external assets: a page is a title, a few paragraphs and optional
links, every value escaped. The status code travels with the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;"
    "line-height:1.5;color:#111}h1{font-size:1.4rem}"
    ".button{display:inline-block;padding:.6rem 1.1rem;background:#1a56db;color:#fff;"
    "border-radius:6px;text-decoration:none}"
)


@dataclass(frozen=True, slots=True)
class Page:
    """An HTML answer: ``status`` code, ``title``, paragraphs, and (label, href) links."""

    status: int
    title: str
    paragraphs: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        """The page as an HTML document."""
        body = "".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        links = "".join(
            f'<p><a class="button" href="{html.escape(href, quote=True)}">{html.escape(label)}</a></p>'
            for label, href in self.links
        )
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title>"
            f"<style>{STYLE}</style></head><body><main>"
            f'<h1 id="title">{html.escape(self.title)}</h1>{body}{links}</main></body></html>'
        )
