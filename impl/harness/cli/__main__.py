"""`python -m impl.harness.cli`: see impl/harness/cli/app.py."""
from impl.harness.cli.app import app

app(prog_name="python -m impl.harness.cli")
