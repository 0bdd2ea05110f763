"""Training tools (offline). Never imported by the serving path."""
