"""A real, throwaway PostgreSQL server: the storage many Optuna workers share.

`local_server()` runs the machine's own PostgreSQL binaries (initdb + pg_ctl) in a fresh temporary
folder, listening on 127.0.0.1 only, on a free port, with its unix socket inside that folder, and
yields the SQLAlchemy URL of its `postgres` database (driver: psycopg2, pinned in pyproject.toml).
Leaving the block stops the server (`pg_ctl stop -m immediate`: nothing in it is worth keeping)
and deletes the folder, also when the block raised.

PostgreSQL refuses to run as root, so under root (CI, these sessions) the server runs as the
unprivileged `postgres` account, which must exist; `unavailable_reason()` says why no server can
be started here (no binaries, no account, no driver), for a spec to skip with.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from impl.checks import as_float, as_str
from impl.ports import free_port

__all__ = ["find_bindir", "unavailable_reason", "local_server"]

BINARIES = ("initdb", "pg_ctl", "postgres")
BINDIR_GLOB = "/usr/lib/postgresql/*/bin"  # Debian/Ubuntu keep each major version here, off PATH
SERVER_ACCOUNT = "postgres"                # who runs the server when we are root
MAX_TIMEOUT_S = 3600.0
# Throwaway data: skip the fsyncs that make a real server crash-safe (a killed *client*, which is what
# the specs test, never depended on them); listen on loopback only.
SERVER_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "listen_addresses=127.0.0.1")


def _has_binaries(folder: Path) -> bool:
    return all(os.access(folder / name, os.X_OK) for name in BINARIES)


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: `pg_config --bindir`, else the newest
    /usr/lib/postgresql/<version>/bin, else the folder of `pg_ctl` on PATH; None when none has all three."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    versions = sorted(glob.glob(BINDIR_GLOB), key=lambda p: [int(n) for n in re.findall(r"\d+", p)], reverse=True)
    candidates += [Path(p) for p in versions]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(Path(pg_ctl).resolve().parent)
    return next((folder for folder in candidates if _has_binaries(folder)), None)


def _account(run_as: str | None) -> pwd.struct_passwd | None:
    """Who runs the server: `run_as`, else `postgres` when we are root, else we ourselves (None)."""
    name = run_as if run_as is not None else (SERVER_ACCOUNT if os.geteuid() == 0 else None)
    if name is None:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def unavailable_reason(run_as: str | None = None) -> str | None:
    """None when `local_server(run_as=run_as)` can start a server here, else why not (a skip reason)."""
    if run_as is not None:
        run_as = as_str(run_as, "run_as")
    if find_bindir() is None:
        return (f"no PostgreSQL server binaries ({', '.join(BINARIES)}) found via `pg_config --bindir`, "
                f"{BINDIR_GLOB} or PATH")
    account = _account(run_as)
    if run_as is not None and account is None:
        return f"run_as: no account named {run_as!r} on this machine"
    if account is None and os.geteuid() == 0:
        return f"running as root and there is no unprivileged {SERVER_ACCOUNT!r} account (PostgreSQL refuses root)"
    if account is not None and account.pw_uid == 0:
        return "PostgreSQL refuses to run as root (run_as names a root account)"
    if account is not None and os.geteuid() not in (0, account.pw_uid):
        return f"run_as: only root can start the server as another account ({account.pw_name!r})"
    if importlib.util.find_spec("psycopg2") is None:  # the pinned driver the URL names
        return "the PostgreSQL driver psycopg2 (psycopg2-binary, pinned in pyproject.toml) is not installed"
    return None


class LocalServer:
    """A started server (from `local_server()`): `url`, `port`, `folder`, `log_file`; a context manager."""

    def __init__(self, timeout_s: float, run_as: str | None):
        self.timeout_s, self.run_as = timeout_s, run_as
        self.url: str | None = None
        self.port: int | None = None
        self.folder: Path | None = None
        self._account: pwd.struct_passwd | None = None

    @property
    def log_file(self) -> Path | None:
        return self.folder / "server.log" if self.folder else None

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        account = self._account
        kwargs = dict(user=account.pw_uid, group=account.pw_gid, extra_groups=[]) if account else {}
        return subprocess.run(list(args), cwd=self.folder, capture_output=True, text=True, timeout=timeout,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C",
                                   "HOME": str(self.folder)}, **kwargs)

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no server log)"

    def start(self) -> "LocalServer":
        reason = unavailable_reason(self.run_as)
        if reason is not None:
            raise RuntimeError(f"cannot start a local PostgreSQL server: {reason}")
        bindir, self._account = find_bindir(), _account(self.run_as)
        self.folder = Path(tempfile.mkdtemp(prefix="claims-pg-"))
        try:
            if self._account:
                os.chown(self.folder, self._account.pw_uid, self._account.pw_gid)
            data = self.folder / "data"
            done = self._run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                             "--locale=C", "--no-sync", "--no-instructions", timeout=self.timeout_s)
            if done.returncode != 0:
                raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr[-2000:]}")
            for _ in range(3):  # another process may take the free port between our probe and the server's bind
                self.port = free_port()
                options = " ".join(f"-c {s}" for s in SERVER_SETTINGS + (f"port={self.port}",
                                                                         f"unix_socket_directories={self.folder}"))
                done = self._run(str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(self.log_file), "-w",
                                 "-t", str(int(self.timeout_s)), "-o", options, timeout=self.timeout_s + 10)
                if done.returncode == 0:
                    self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"
                    return self
                if "could not bind" not in self._log_tail():
                    break
            raise RuntimeError(f"pg_ctl start failed ({done.returncode}): {done.stderr[-1000:]}\n{self._log_tail()}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (immediate mode; SIGKILL to the postmaster if that fails) and delete its folder."""
        if self.folder is None:
            return
        data = self.folder / "data"
        try:
            if (data / "postmaster.pid").exists():
                bindir = find_bindir()
                try:
                    done = self._run(str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w",
                                     "-t", "30", timeout=40)
                    stopped = done.returncode == 0
                except (OSError, subprocess.SubprocessError):
                    stopped = False
                if not stopped:
                    self._kill_postmaster(data / "postmaster.pid")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder, self.url = None, None

    @staticmethod
    def _kill_postmaster(pid_file: Path) -> None:
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGKILL)  # its backends exit when they see the postmaster gone
        except (OSError, ValueError, IndexError):
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.1)

    def __enter__(self) -> str:
        if self.url is None:
            self.start()
        return self.url

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False


def local_server(timeout_s: float = 60.0, *, run_as: str | None = None) -> LocalServer:
    """A fresh PostgreSQL server for a `with` block, which gets its SQLAlchemy URL:

        with local_server() as url:
            optuna.create_study(study_name="s", storage=url)

    `timeout_s` bounds initdb and the wait for the server to accept connections; `run_as` is the
    account that runs it (default: `postgres` under root, else the current user). Nothing starts
    until the block is entered; arguments are checked here, first.
    """
    timeout_s = as_float(timeout_s, "timeout_s", low=0.0, low_open=True, high=MAX_TIMEOUT_S)
    if run_as is not None:
        run_as = as_str(run_as, "run_as")
    return LocalServer(timeout_s, run_as)
