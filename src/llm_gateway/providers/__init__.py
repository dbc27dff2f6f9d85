"""Upstream providers: each turns a request in an API shape it speaks into an upstream reply."""
