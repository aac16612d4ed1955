"""The embedded local runtime of Receivables: moto as the AWS, the handlers run in-process."""
