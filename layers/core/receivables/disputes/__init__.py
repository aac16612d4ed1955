"""Disputes: the model, the analysis rules, the service the workflow and the API call."""
