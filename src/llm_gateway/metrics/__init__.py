"""Metrics: what each request records, and the aggregation that the dashboard reads."""
