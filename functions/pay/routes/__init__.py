"""The pay function's routes, one Chalice blueprint each: the signed links (`links`: pay, promise,
dispute), the customer portal (`portal`) and enrolment (`enrolment`); `pages` is what they share,
`wiring` what they are bound to."""
