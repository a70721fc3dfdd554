"""Lesson 6's Spark fixtures: the process's one SparkSession, and masters a claim needs for itself.

`spark` is the shared session on the configured master (`impl.l6_bigdata.spark.configured_master()`,
`local[*]` unless CLAIMS_SPARK_MASTER says otherwise), started once (about 10 s) and stopped when the
test run ends. `on_master` lends a session on another master (`local[1]`, `local[2,3]`, a standalone
cluster) for the length of a `with` block: it stops the shared context first (one per JVM), and the
next `spark` user gets the shared one back. Switching contexts inside the running JVM costs ~0.3 s.
"""
import contextlib
from pathlib import Path

import pytest

from impl.l6_bigdata import spark as spark_session

HERE = Path(__file__).parent
# pyspark 4.x warns on every pandas conversion that pandas 3 is not fully supported yet, and calls
# pandas' deprecated `copy=` keyword (CLAIMS.md section 13: a known library risk). The claims compare
# every converted table with pandas, which is where a real incompatibility would show.
KNOWN_WARNINGS = ("ignore:PySpark does not yet fully support pandas:FutureWarning",
                  "ignore:The copy keyword is deprecated")


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == HERE:
            for rule in KNOWN_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(rule))


@pytest.fixture(scope="session")
def _spark_run():
    yield
    spark_session.stop()


@pytest.fixture
def spark(_spark_run):
    return spark_session.session()


@pytest.fixture
def on_master(_spark_run):
    @contextlib.contextmanager
    def lend(master: str):
        spark_session.stop()
        try:
            yield spark_session.session(master)
        finally:
            spark_session.stop()
    return lend
