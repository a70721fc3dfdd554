"""The claims in a terminal: `python -m impl.harness.cli list|show|explain` (app.py), reading the report model
(catalogue.py) and saying why a verdict is what it is (explain.py). Not a dependency of the report stage."""
