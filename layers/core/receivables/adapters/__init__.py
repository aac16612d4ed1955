"""Adapters: the outside world besides DynamoDB. S3 objects and customers' uploads (`s3`,
`attachments`), SES (`ses`), the Stripe client (`stripe_api`), the event bus (`events`),
at-most-once markers (`once`).

May import: `receivables.kernel`.
"""
