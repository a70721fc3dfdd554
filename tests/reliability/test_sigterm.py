"""A pytest run stopped with SIGTERM still tears its fixtures down, so nothing it started outlives it."""
import os
import signal
import subprocess
import sys
import time

from impl import paths

SPEC = '''
import pathlib, time, pytest

@pytest.fixture(scope="session")
def server(tmp_path_factory):
    out = pathlib.Path({out!r})
    (out / "started").write_text("up")
    yield
    (out / "stopped").write_text("torn down")

def test_waits(server):
    time.sleep(60)
'''


# The control: the same run with the plugin's handler taken away again once the session started, as before it
# existed. SIGTERM then kills the process outright and the fixture is never torn down, so the check above can fail.
WITHOUT_HANDLER = '''
import signal

def pytest_sessionstart(session):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
'''


def _run_and_terminate(tmp_path, *, handler: bool) -> tuple[str, int, float]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text('pytest_plugins = ["impl.harness.plugin"]\n' + ("" if handler else WITHOUT_HANDLER))
    (project / "params.yaml").write_text("profile: quick\nseed: 0\n")
    (project / "test_hang.py").write_text(SPEC.format(out=str(tmp_path)))
    env = dict(os.environ, PYTHONPATH=str(paths.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                            "--no-claim-results", "test_hang.py"], cwd=project, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists():
            assert run.poll() is None and time.monotonic() < deadline, run.stdout.read() if run.poll() else "no start"
            time.sleep(0.2)
        started = time.monotonic()
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    return output, run.returncode, time.monotonic() - started


def test_sigterm_tears_the_session_fixtures_down(tmp_path):
    output, returncode, seconds = _run_and_terminate(tmp_path, handler=True)
    assert (tmp_path / "stopped").exists(), f"the session fixture was not torn down:\n{output[-2000:]}"
    assert seconds < 20 and returncode != 0
    assert "SIGTERM" in output


def test_without_the_handler_sigterm_leaves_the_fixture_up(tmp_path):
    """The control of the test above: it goes red when the handler is missing."""
    output, returncode, _ = _run_and_terminate(tmp_path, handler=False)
    assert not (tmp_path / "stopped").exists(), f"torn down even without the handler:\n{output[-2000:]}"
    assert returncode == -signal.SIGTERM
