"""Operator tools behind `python -m bot …`: the outside check, key rotation, copying a
database to PostgreSQL, the generated codes page, safe CSV for the audit export, a
workspace's pipeline tokens (`pipeline-token`).

May import any room of `bot/` and `storage`; nothing in `bot/` imports it except the CLI
(`bot/__main__.py`); never `handlers` or `sandbox`.
"""
