"""The pay function's routes, one Chalice blueprint each: the signed links (`links`: pay, promise,
dispute), the customer portal (`portal`) and enrolment (`enrolment`); `pages` is what they share,
`wiring` what they are bound to. `BLUEPRINTS` lists them for the app to register."""

from . import enrolment, links, portal

BLUEPRINTS = (links.bp, portal.bp, enrolment.bp)
