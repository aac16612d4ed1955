"""Small, self-contained HTML pages for customers (the answers of their signed links).

No template engine and no external assets: a page is a title, a few paragraphs, optional links
and an optional form, every value escaped. The status code travels with the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from receivables.web.security_headers import security_headers

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;"
    "line-height:1.5;color:#111}h1{font-size:1.4rem}"
    ".button{display:inline-block;padding:.6rem 1.1rem;background:#1a56db;color:#fff;"
    "border-radius:6px;text-decoration:none;border:0;font:inherit;cursor:pointer}"
    "label{display:block;margin:.8rem 0 .2rem;font-weight:600}"
    "input{font:inherit;padding:.4rem;width:100%;max-width:16rem;box-sizing:border-box}"
    ".errors{color:#9b1c1c}.hint{color:#555;font-size:.9rem}"
)


@dataclass(frozen=True, slots=True)
class Input:
    """One input of a form: its ``name``, ``label``, HTML ``kind`` and value, a hint under it,
    and extra attributes (``min``, ``max``, ``required`` ...)."""

    name: str
    label: str
    kind: str = "text"  # an <input> type, or "select", "textarea", "checkboxes", "hidden"
    value: str = ""
    hint: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # (value, label) of a select or of checkboxes
    chosen: tuple[str, ...] = ()  # the checked boxes

    def render(self) -> str:
        """The input (with its label) as HTML."""
        e = html.escape
        extra = "".join(f' {e(k)}="{e(v, quote=True)}"' for k, v in self.attributes)
        name = e(self.name, quote=True)
        if self.kind == "hidden":
            return f'<input type="hidden" name="{name}" value="{e(self.value, quote=True)}">'
        label = f'<label for="{name}">{e(self.label)}</label>'
        if self.kind == "select":
            options = "".join(
                f'<option value="{e(v, quote=True)}"{" selected" if v == self.value else ""}>{e(t)}</option>'
                for v, t in self.options
            )
            field = f'<select id="{name}" name="{name}"{extra}>{options}</select>'
        elif self.kind == "textarea":
            field = f'<textarea id="{name}" name="{name}" rows="4"{extra}>{e(self.value)}</textarea>'
        elif self.kind == "checkboxes":
            label = f"<fieldset><legend>{e(self.label)}</legend>"
            field = (
                "".join(
                    f'<label><input type="checkbox" name="{name}" value="{e(v, quote=True)}"'
                    f"{' checked' if v in self.chosen else ''}> {e(t)}</label>"
                    for v, t in self.options
                )
                + "</fieldset>"
            )
        else:
            value = e(self.value, quote=True)
            field = f'<input id="{name}" name="{name}" type="{e(self.kind)}" value="{value}"{extra}>'
        hint = f'<div class="hint">{e(self.hint)}</div>' if self.hint else ""
        return label + field + hint


@dataclass(frozen=True, slots=True)
class Form:
    """A form posted back to ``action``; ``errors`` are (field, reason) pairs shown above it."""

    action: str
    inputs: tuple[Input, ...]
    submit: str
    errors: tuple[tuple[str, str], ...] = ()
    multipart: bool = False  # a file upload (the presigned POST to S3)

    def render(self) -> str:
        """The form as HTML."""
        e = html.escape
        errors = "".join(f"<li>{e(name)}: {e(reason)}</li>" for name, reason in self.errors)
        parts = [f'<ul class="errors" role="alert" id="errors">{errors}</ul>' if errors else ""]
        encoding = ' enctype="multipart/form-data"' if self.multipart else ""
        parts.append(f'<form method="post" action="{e(self.action, quote=True)}"{encoding}>')
        parts.extend(f.render() for f in self.inputs)
        parts.append(f'<p><button class="button" type="submit">{e(self.submit)}</button></p></form>')
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Page:
    """An HTML answer: ``status`` code, ``title``, paragraphs, and (label, href) links."""

    status: int
    title: str
    paragraphs: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    form: Form | None = None
    forms: tuple[Form, ...] = ()  # more forms after the first

    def security_headers(self) -> dict[str, str]:
        """The page's security headers: its stylesheet by hash, its forms' targets allowed."""

        forms = ((self.form,) if self.form is not None else ()) + self.forms
        return security_headers((STYLE,), [f.action for f in forms])

    def render(self) -> str:
        """The page as an HTML document."""
        body = "".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        links = "".join(
            f'<p><a class="button" href="{html.escape(href, quote=True)}">{html.escape(label)}</a></p>'
            for label, href in self.links
        )
        form = "".join(f.render() for f in ((self.form,) if self.form is not None else ()) + self.forms)
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(self.title)}</title>"
            f"<style>{STYLE}</style></head><body><main>"
            f'<h1 id="title">{html.escape(self.title)}</h1>{body}{form}{links}</main></body></html>'
        )
