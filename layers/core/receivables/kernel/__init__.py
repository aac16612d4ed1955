"""The kernel: what every other package may use and that uses nothing of ours. Exact money
(`money`), the one clock (`clock`), company and VAT ids (`company_ids`), typed settings read once
(`settings`), strict request validation (`validation`), the finance roles (`access`), the
shared Logger, Metrics and Tracer (`observability`), the error hierarchy (`errors`) and a Lambda
entry point over a handler and its dependencies (`entry_point`).

May import: the standard library and third-party libraries (no boto3, PynamoDB or Stripe).
"""
