"""The hosted Checkout page: HTML only, inline CSS, no script and no external asset.

`render_checkout` is the page of an open session: in payment mode its line items and the total
in the session's currency, in setup mode neither; then one ``<form method="post">`` per payment
method of the session, in the order of its (read-only, computed) ``payment_method_types`` (the
first is the one the customer is expected to use), each with a hidden ``method`` input:

- ``card``: ``cardnumber``, ``exp``, ``cvc``, ``name`` (ids the same), button ``#pay``;
- ``sepa_debit``: ``iban`` (``#iban``), ``name`` (``#sepa-name``, the account holder), the
  SEPA mandate text (``#sepa-mandate``), button ``#pay-sepa_debit``;
- ``us_bank_account``: ``routing_number`` (``#routing_number``), ``account_number``
  (``#account_number``), ``name`` (``#ach-name``), the ACH mandate text (``#ach-mandate``),
  button ``#pay-us_bank_account``.

Each form asks for ``email`` too (ids ``email``, ``sepa-email``, ``ach-email``) unless the
session knows it (``customer_email`` or the customer's). The buttons say ``Pay …`` in payment
mode and ``Save`` in setup mode. Under each form, the test numbers for that method. After a
refused attempt the message is in ``#error`` inside the form that was sent. `render_notice` is
every other page: paid already, expired, not found; `render_mandate` a mandate's text. Every
value is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from receivables_local.stripe_local.objects import format_amount

MERCHANT = "Receivables"
METHOD_LABELS = {"card": "Card", "sepa_debit": "SEPA Direct Debit", "us_bank_account": "US bank account"}
_STYLE = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1a1f36;background:#f6f9fc}
main{max-width:920px;margin:0 auto;padding:48px 24px;display:flex;flex-wrap:wrap;gap:48px}
section{flex:1 1 360px}
h1{font-size:18px;font-weight:600;margin:0 0 4px}
.test{display:inline-block;font-size:12px;font-weight:600;color:#a04100;background:#ffde92;
border-radius:4px;padding:0 6px;margin-left:8px;vertical-align:middle}
.total{font-size:36px;font-weight:600;margin:8px 0 24px}
table{width:100%;border-collapse:collapse}
td{padding:8px 0;vertical-align:top;border-bottom:1px solid #e3e8ee}
td.amount{text-align:right;white-space:nowrap;padding-left:16px}
.muted{color:#697386;font-size:14px}
label{display:block;font-size:14px;color:#3c4257;margin:16px 0 4px}
input{width:100%;font:inherit;padding:10px 12px;border:1px solid #cfd7df;border-radius:6px;background:#fff}
input:focus{outline:2px solid #635bff;border-color:#635bff}
.row{display:flex;gap:12px}.row>div{flex:1}
button{width:100%;margin-top:24px;font:inherit;font-weight:600;color:#fff;background:#635bff;
border:0;border-radius:6px;padding:12px;cursor:pointer}
button:hover{background:#5851e5}
#error{color:#df1b41;background:#fff5f7;border:1px solid #f5c2cd;border-radius:6px;padding:8px 12px;
margin:16px 0 0}
a{color:#635bff;text-decoration:none}
.back{display:inline-block;margin-bottom:24px;font-size:14px}
.notice{max-width:480px;margin:96px auto;background:#fff;border-radius:8px;padding:32px;
box-shadow:0 2px 8px rgba(0,0,0,.08)}
.hint{margin-top:12px}
h2.method{font-size:16px;font-weight:600;margin:32px 0 0;padding-top:16px;border-top:1px solid #e3e8ee}
section>h2.method:first-of-type{border-top:0;padding-top:0;margin-top:0}
.mandate{font-size:12px;margin:16px 0 0}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


_SEPA_MANDATE = (
    "By providing your payment information and {action}, you authorise (A) {merchant} and Stripe, our "
    "payment service provider, to send instructions to your bank to debit your account and (B) your "
    "bank to debit your account in accordance with those instructions. As part of your rights, you are "
    "entitled to a refund from your bank under the terms and conditions of your agreement with your bank. "
    "A refund must be claimed within 8 weeks starting from the date on which your account was debited. "
    "Your rights are explained in a statement that you can obtain from your bank."
)
_SEPA_NOTIFICATIONS = " You agree to receive notifications for future debits up to 2 days before they occur."
_ACH_MANDATE_SAVED = (
    "By clicking Save, you authorize {merchant} to debit the bank account specified above for any amount "
    "owed for charges arising from your use of {merchant}' services and/or purchase of products from "
    "{merchant}, pursuant to {merchant}' website and terms, until this authorization is revoked. You may "
    "amend or cancel this authorization at any time by providing notice to {merchant} with 30 (thirty) "
    "days notice."
)
_ACH_MANDATE_ONCE = (
    "By clicking Pay, you authorize {merchant} to debit the bank account specified above for {total}, "
    "pursuant to {merchant}' website and terms."
)


def _sepa_mandate(setup: bool) -> str:
    action = "saving these payment details" if setup else "confirming this payment"
    text = _SEPA_MANDATE.format(action=action, merchant=MERCHANT)
    return text + _SEPA_NOTIFICATIONS if setup else text


def _ach_mandate(setup: bool, total: str | None) -> str:
    if setup:
        return _ACH_MANDATE_SAVED.format(merchant=MERCHANT)
    return _ACH_MANDATE_ONCE.format(merchant=MERCHANT, total=total)


_CARD_HINT = (
    "Test mode: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined,\n"
    "4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 0259 is disputed after paying.\n"
    "Any future expiry and any 3-digit CVC."
)
_CARD_SETUP_HINT = " 4000 0000 0000 0341 is saved but every later charge of it is declined."
_SEPA_HINT = (
    "Test mode: DE89 3704 0044 0532 0130 00 or AT61 1904 3002 3457 3201 is paid (as is any other valid\n"
    "IBAN); DE62 3704 0044 0532 0130 01 or AT86 1904 3002 3547 3202 fails; DE65 3704 0044 0002 2222 27 has\n"
    "insufficient funds; DE35 3704 0044 0532 0130 02 or AT59 1904 3002 3547 3203 is paid, then disputed.\n"
    "The bank answers when the debit settles."
)
_ACH_HINT = (
    "Test mode: routing number 110000000 with account 000123456789 is paid; 000111111113 (account\n"
    "closed), 000111111116 (no account), 000222222227 (insufficient funds) and 000333333335 (debit not\n"
    "authorized) fail; 000555555559 is paid, then disputed. The bank answers when the debit settles."
)


def _email_input(field_id: str, known: str | None, email: str) -> str:
    if known:
        return ""
    return (
        f'<label for="{field_id}">Email</label><input id="{field_id}" name="email" type="email" '
        f'autocomplete="email" required value="{escape(email)}">'
    )


def _form(session: dict[str, Any], method: str, fields: str, button: str, button_id: str) -> str:
    return (
        f'<form method="post" action="/c/pay/{escape(str(session["id"]))}" id="form-{method}" '
        f'autocomplete="on">\n<input type="hidden" name="method" value="{method}">\n{fields}\n'
        f'<button type="submit" id="{button_id}">{escape(button)}</button>\n</form>'
    )


def _card_form(
    session: dict[str, Any], button: str, known: str | None, error: str, name: str, email: str
) -> str:
    fields = f"""{_email_input("email", known, email)}
<label for="cardnumber">Card number</label>
<input id="cardnumber" name="cardnumber" inputmode="numeric" autocomplete="cc-number"
 placeholder="1234 1234 1234 1234" required>
<div class="row">
<div><label for="exp">Expiry (MM/YY)</label>
<input id="exp" name="exp" inputmode="numeric" autocomplete="cc-exp" placeholder="MM / YY" required></div>
<div><label for="cvc">CVC</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="CVC" required></div>
</div>
<label for="name">Name on card</label>
<input id="name" name="name" autocomplete="cc-name" value="{escape(name)}">
{error}"""
    hint = _CARD_HINT + (_CARD_SETUP_HINT if session["mode"] == "setup" else "")
    return _form(session, "card", fields, button, "pay") + f'\n<p class="muted hint">{escape(hint)}</p>'


def _sepa_form(
    session: dict[str, Any], button: str, known: str | None, error: str, name: str, email: str
) -> str:
    fields = f"""{_email_input("sepa-email", known, email)}
<label for="sepa-name">Account holder name</label>
<input id="sepa-name" name="name" autocomplete="name" required value="{escape(name)}">
<label for="iban">IBAN</label>
<input id="iban" name="iban" autocomplete="off" spellcheck="false" placeholder="DE00 0000 0000 0000 0000 00"
 required>
<p class="muted mandate" id="sepa-mandate">{escape(_sepa_mandate(session["mode"] == "setup"))}</p>
{error}"""
    return _form(session, "sepa_debit", fields, button, "pay-sepa_debit") + (
        f'\n<p class="muted hint">{escape(_SEPA_HINT)}</p>'
    )


def _ach_form(
    session: dict[str, Any], button: str, known: str | None, error: str, name: str, email: str
) -> str:
    setup = session["mode"] == "setup"
    total = None if setup else format_amount(int(session["amount_total"]), str(session["currency"]))
    fields = f"""{_email_input("ach-email", known, email)}
<label for="ach-name">Account holder name</label>
<input id="ach-name" name="name" autocomplete="name" required value="{escape(name)}">
<div class="row">
<div><label for="routing_number">Routing number</label>
<input id="routing_number" name="routing_number" inputmode="numeric" autocomplete="off"
 placeholder="110000000" required></div>
<div><label for="account_number">Account number</label>
<input id="account_number" name="account_number" inputmode="numeric" autocomplete="off"
 placeholder="000123456789" required></div>
</div>
<p class="muted mandate" id="ach-mandate">{escape(_ach_mandate(setup, total))}</p>
{error}"""
    return _form(session, "us_bank_account", fields, button, "pay-us_bank_account") + (
        f'\n<p class="muted hint">{escape(_ACH_HINT)}</p>'
    )


_FORMS = {"card": _card_form, "sepa_debit": _sepa_form, "us_bank_account": _ach_form}


def _summary(session: dict[str, Any], line_items: list[dict[str, Any]]) -> str:
    """The left column: what is paid (the total and the line items), or what setup mode does."""
    if session["mode"] == "setup":
        return (
            '<div class="muted">Save your payment details</div>\n'
            f'<p class="muted" id="setup-note">{MERCHANT} will use them for your future payments.</p>'
        )
    currency = str(session["currency"])
    total = format_amount(int(session["amount_total"]), currency)
    rows = []
    for item in line_items:
        product = item["product"]
        quantity = int(item["quantity"])
        description = product.get("description")
        unit = format_amount(int(item["price"]["unit_amount"]), currency)
        extra = f'<div class="muted">{escape(str(description))}</div>' if description else ""
        if quantity > 1:
            extra += f'<div class="muted">Qty {quantity} &times; {escape(unit)}</div>'
        rows.append(
            f"<tr><td>{escape(str(product['name']))}{extra}</td>"
            f'<td class="amount">{escape(format_amount(int(item["amount_total"]), currency))}</td></tr>'
        )
    return (
        f'<div class="muted">Pay</div>\n<div class="total" id="total">{escape(total)}</div>\n'
        f'<table id="items">{"".join(rows)}</table>'
    )


def render_checkout(
    session: dict[str, Any],
    line_items: list[dict[str, Any]],
    *,
    error: str | None = None,
    method: str = "card",
    name: str = "",
    email: str = "",
    known_email: str | None = None,
) -> str:
    """The page of an open session. ``line_items`` carry their ``product`` (name and
    description); ``known_email`` is the customer's email when the session knows it (else
    ``customer_email``); after a refused attempt with ``method``, ``error`` is shown in that
    method's form and ``name`` and ``email`` refill it."""
    setup = session["mode"] == "setup"
    total = None if setup else format_amount(int(session["amount_total"]), str(session["currency"]))
    button = "Save" if setup else f"Pay {total}"
    known = known_email or session.get("customer_email")
    cancel = session.get("cancel_url")
    back = f'<a class="back" id="cancel" href="{escape(str(cancel))}">&larr; Back</a>' if cancel else ""
    email_line = f'<label>Email</label><div id="customer-email">{escape(str(known))}</div>' if known else ""
    kinds = list(session["payment_method_types"])
    shown = method if method in kinds else kinds[0]  # an unknown method's error shows in the first form
    blocks = []
    for kind in kinds:
        chosen = kind == shown
        error_html = f'<p id="error" role="alert">{escape(error)}</p>' if chosen and error else ""
        form = _FORMS[kind](
            session, button, known, error_html, name if chosen else "", email if chosen else ""
        )
        blocks.append(f'<h2 class="method" id="method-{kind}">{escape(METHOD_LABELS[kind])}</h2>\n{form}')
    forms_html = "\n".join(blocks)
    body = f"""<main>
<section>
{back}
<h1>{MERCHANT}<span class="test">TEST MODE</span></h1>
{_summary(session, line_items)}
</section>
<section>
{email_line}
{forms_html}
</section>
</main>"""
    return _page("Save payment details" if setup else f"Pay {total}", body)


def render_notice(title: str, message: str, *, link: str | None = None, link_text: str = "Return") -> str:
    """A page with one message: already paid, expired, not found."""
    anchor = f'<p><a id="return" href="{escape(link)}">{escape(link_text)}</a></p>' if link else ""
    body = (
        f'<div class="notice"><h1 id="title">{escape(title)}</h1>'
        f'<p id="message">{escape(message)}</p>{anchor}</div>'
    )
    return _page(title, body)


def render_mandate(mandate: dict[str, Any]) -> str:
    """A debit mandate: its reference, when it was accepted, and the text the customer accepted."""
    kind = str(mandate["payment_method_details"]["type"])
    details = mandate["payment_method_details"][kind]
    reference = details.get("reference") or mandate["id"]
    multi_use = mandate["type"] == "multi_use"
    text = _sepa_mandate(multi_use) if kind == "sepa_debit" else _ach_mandate(True, None)
    message = f"{METHOD_LABELS.get(kind, kind)} mandate {reference} ({mandate['status']}). {text}"
    return render_notice("Direct Debit mandate", message)
