# The claims harness lives in impl/harness; this file only switches it on.
pytest_plugins = ["impl.harness.plugin"]
