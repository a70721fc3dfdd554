"""Lesson 7's Spark fixture (L7.recommender.spark_als), as Lesson 6's: the JVM starts once, before the claims,
and the claim borrows a context of its own that is stopped when it ends, so it leaves no process or
socket behind (the plugin's state guard checks)."""
import pytest

from impl.l6_bigdata import spark as spark_session


@pytest.fixture(scope="session")
def _spark_jvm():
    spark_session.launch_jvm()
    yield
    spark_session.stop()


@pytest.fixture
def spark(_spark_jvm):
    """A session on the configured master for this claim; `impl.l6_bigdata.spark.session()` returns it inside."""
    with spark_session.borrowed() as session:
        yield session
