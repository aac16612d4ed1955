"""Adapters: the outside world besides DynamoDB. S3 objects and customers' uploads (`s3`,
`attachments`), SES (`ses`), the Stripe client (`stripe_api`), the event bus (`events`),
at-most-once markers (`once`) and Powertools Idempotency (`idempotency`), secrets (`secrets`),
Step Functions' task answers (`workflows`).

May import: `receivables.kernel`.
"""
