"""Lesson 6's Spark fixtures: one JVM for the test run, and a context of its own for each claim.

`_spark_jvm` starts the JVM once (about 10 s) before the first Spark claim, so no claim is the one
that started it. `spark` lends a claim a session on the configured master
(`impl.l6_bigdata.spark.configured_master()`, `local[*]` unless CLAIMS_SPARK_MASTER says otherwise);
`on_master` lends one on another master (`local[1]`, `local[2,3]`, a standalone cluster) for the
length of a `with` block. Either way the context is the claim's own (~0.1 s to start in the running
JVM): it is stopped when the claim ends, and its Python workers and executors are gone with it, so a
claim leaves no process, socket or setting behind (the plugin's state guard checks).
"""
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
def _spark_jvm():
    spark_session.launch_jvm()
    yield
    spark_session.stop()


@pytest.fixture
def spark(_spark_jvm):
    with spark_session.borrowed() as session:
        yield session


@pytest.fixture
def on_master(_spark_jvm):
    def lend(master: str):
        return spark_session.borrowed(master)
    return lend
