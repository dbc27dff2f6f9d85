"""The benchmark suite: llm-gateway against a mock upstream and LiteLLM, run by ``bench/run``.

Nothing here is imported by the gateway or run by the test suite; speed is measured here,
not in timed tests.
"""
