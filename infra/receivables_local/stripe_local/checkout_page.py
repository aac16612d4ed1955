"""The hosted Checkout page: HTML only, inline CSS, no script and no external asset.

`render_checkout` is the payment form of an open session: its line items, the total in the
session's currency, the customer's email, the card fields (``cardnumber``, ``exp``, ``cvc``,
``name``; ``email`` too when the session has no ``customer_email``), the ``Pay …`` button and a
link back to ``cancel_url``; after a refused attempt the message is in the element ``#error``.
`render_notice` is every other page: paid already, expired, not found. Every value is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from receivables_local.stripe_local.objects import format_amount

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
.hint{margin-top:24px}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def render_checkout(
    session: dict[str, Any],
    line_items: list[dict[str, Any]],
    *,
    error: str | None = None,
    name: str = "",
    email: str = "",
) -> str:
    """The payment page of an open session. ``line_items`` carry their ``product`` (name and
    description); ``name`` and ``email`` refill the form after a refused attempt."""
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
    cancel = session.get("cancel_url")
    back = f'<a class="back" id="cancel" href="{escape(str(cancel))}">&larr; Back</a>' if cancel else ""
    customer_email = session.get("customer_email")
    if customer_email:
        email_field = f'<label>Email</label><div id="customer-email">{escape(str(customer_email))}</div>'
    else:
        email_field = (
            '<label for="email">Email</label><input id="email" name="email" type="email" '
            f'autocomplete="email" required value="{escape(email)}">'
        )
    error_html = f'<p id="error" role="alert">{escape(error)}</p>' if error else ""
    body = f"""<main>
<section>
{back}
<h1>Receivables<span class="test">TEST MODE</span></h1>
<div class="muted">Pay</div>
<div class="total" id="total">{escape(total)}</div>
<table id="items">{"".join(rows)}</table>
</section>
<section>
<form method="post" action="/c/pay/{escape(str(session["id"]))}" autocomplete="on">
{email_field}
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
{error_html}
<button type="submit" id="pay">Pay {escape(total)}</button>
</form>
<p class="muted hint">Test mode: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined,
4000 0000 0000 9995 has insufficient funds, 4000 0000 0000 0259 is disputed after paying.
Any future expiry and any 3-digit CVC.</p>
</section>
</main>"""
    return _page(f"Pay {total}", body)


def render_notice(title: str, message: str, *, link: str | None = None, link_text: str = "Return") -> str:
    """A page with one message: already paid, expired, not found."""
    anchor = f'<p><a id="return" href="{escape(link)}">{escape(link_text)}</a></p>' if link else ""
    body = (
        f'<div class="notice"><h1 id="title">{escape(title)}</h1>'
        f'<p id="message">{escape(message)}</p>{anchor}</div>'
    )
    return _page(title, body)
