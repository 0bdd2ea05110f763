"""Evaluation tools (offline). Never imported by the serving path."""
