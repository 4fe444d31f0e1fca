"""A real Bugsink server on 127.0.0.1 for end-to-end tests and the demo.

Bugsink (Django + SQLite) lives in its own virtualenv, built once and cached
between runs under a key made of its pinned version and the Python that runs
it. Each `BugsinkServer` gets a fresh configuration and database in a
directory of its own, a superuser, a team and a project, and serves on a port
the kernel picked. What the server stored is read back from its SQLite
database, read-only, so a test sees exactly what the web UI would show.

This module depends only on the standard library, so the demo can import it
from any environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

# 2.5.0-2.6.1 answer every multipart /minidump/ upload with 400, and 2.6.2
# needs a certifi newer than the package registry offers.
BUGSINK_VERSION = "2.4.0"

# Bugsink 2.4 (Django 5.2) runs on CPython 3.10-3.13. Preferred first: the one
# it is known to work with here, so every test environment (py39...py313)
# shares a single cached virtualenv instead of building one each.
_PREFERRED_MINORS = (11, 12, 13, 10)
_SUPPORTED = ((3, 10), (3, 13))

# The shared fixtures sit beside the checkout: <root>/main and <root>/shared.
MINIDUMP_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "minidumps"

USERNAME = "admin"
PASSWORD = "tripwire-demo"

_CHECK_PYTHON = "import sys, venv, ensurepip, sqlite3; print('%d.%d' % sys.version_info[:2])"

# Run by Bugsink's own Python with DJANGO_SETTINGS_MODULE set: creates the
# user, team and project, and prints what the caller needs as JSON.
_PROVISION_SCRIPT = """
import json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from teams.models import Team, TeamMembership, TeamRole
from projects.models import Project, ProjectMembership, ProjectRole
username, password = sys.argv[1], sys.argv[2]
user = get_user_model().objects.create_superuser(
    username=username, email=username + "@example.invalid", password=password)
team = Team.objects.create(name="tripwire")
TeamMembership.objects.create(team=team, user=user, role=TeamRole.ADMIN, accepted=True)
project = Project.objects.create(name="tripwire-e2e", slug="tripwire-e2e", team=team)
ProjectMembership.objects.create(project=project, user=user, role=ProjectRole.ADMIN, accepted=True)
print(json.dumps({"dsn": project.dsn, "project_id": project.id,
                  "sentry_key": project.sentry_key.hex}))
"""

_CONF_TEMPLATE = """\
# Written by tests/e2e/bugsink_server.py for one throwaway Bugsink instance.
from bugsink.settings.default import *  # noqa: F403
from bugsink.settings.default import DATABASES

SECRET_KEY = {secret!r}
DEBUG = False
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES["default"]["NAME"] = {db!r}
DATABASES["snappea"]["NAME"] = {snappea_db!r}
# Digest inside the ingest request: an event is in the database by the time
# the client has its 200, and no snappea worker process is needed.
SNAPPEA = {{"TASK_ALWAYS_EAGER": True, "WAKEUP_CALLS_DIR": {wakeup!r}}}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
BUGSINK = {{
    "BASE_URL": {base_url!r},
    "SINGLE_USER": True,
    "PHONEHOME": False,  # never any traffic beyond 127.0.0.1
    "FEATURE_MINIDUMPS": True,
    "INGEST_STORE_BASE_DIR": {ingest_dir!r},
    "MAX_EVENTS_PER_PROJECT_PER_5_MINUTES": 1_000_000,
    "MAX_EVENTS_PER_PROJECT_PER_HOUR": 1_000_000,
    "MAX_EVENTS_PER_5_MINUTES": 1_000_000,
    "MAX_EVENTS_PER_HOUR": 1_000_000,
}}
"""


class BugsinkError(RuntimeError):
    """Bugsink could not be installed, started or queried."""


def _say(message: str) -> None:
    print(f"[bugsink] {message}", file=sys.stderr, flush=True)


def _python_version(executable: str) -> Optional[tuple[int, int]]:
    """The (major, minor) of a Python that can build a venv, or None."""
    try:
        out = subprocess.run(
            [executable, "-I", "-c", _CHECK_PYTHON],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        major, minor = out.strip().split(".")
        return int(major), int(minor)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _candidate_pythons() -> Iterator[str]:
    override = os.environ.get("TRIPWIRE_BUGSINK_PYTHON")
    if override:
        yield override
        return
    pyenv_roots = [
        Path(os.environ.get("PYENV_ROOT", "~/.pyenv")).expanduser(),
        Path("/root/.pyenv"),
    ]
    for minor in _PREFERRED_MINORS:
        for root in pyenv_roots:
            # Newest patch release first.
            found = sorted(
                root.glob(f"versions/3.{minor}.*/bin/python"),
                key=lambda p: [int(x) for x in p.parent.parent.name.split(".") if x.isdigit()],
                reverse=True,
            )
            yield from (str(p) for p in found)
        if sys.version_info[:2] == (3, minor):
            yield sys.executable
        which = shutil.which(f"python3.{minor}")
        if which:
            yield which


def find_python() -> tuple[str, tuple[int, int]]:
    """Pick the Python that runs Bugsink: `$TRIPWIRE_BUGSINK_PYTHON`, else a 3.10-3.13."""
    seen: set[str] = set()
    for candidate in _candidate_pythons():
        if candidate in seen:
            continue
        seen.add(candidate)
        version = _python_version(candidate)
        if version is not None and _SUPPORTED[0] <= version <= _SUPPORTED[1]:
            return candidate, version
    raise BugsinkError(
        "no Python 3.10-3.13 with venv and ensurepip found to run Bugsink; "
        "set TRIPWIRE_BUGSINK_PYTHON to one"
    )


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tripwire-tests"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock, so concurrent test sessions build a venv only once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _run_logged(
    cmd: list[str], log: Path, *, timeout: float, env: dict[str, str], cwd: Optional[Path] = None
) -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        try:
            result = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                env=env,
                cwd=cwd,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BugsinkError(f"{cmd[:4]} took over {timeout:.0f}s; log: {log}") from None
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise BugsinkError(f"{cmd[:4]} exited {result.returncode}; log {log}:\n{tail}")


@dataclass(frozen=True)
class BugsinkInstall:
    """A ready virtualenv with Bugsink in it, and a migrated template database."""

    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def template_dir(self) -> Path:
        return self.venv / "tripwire-template-db"


_READY_MARKER = "tripwire-ready.json"


def _is_ready(venv: Path, python: str) -> bool:
    marker = venv / _READY_MARKER
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    # A venv whose base Python went away has a dangling bin/python.
    return (
        info.get("bugsink") == BUGSINK_VERSION
        and info.get("base_python") == python
        and (venv / "bin" / "python").exists()
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(extra)
    return env


def ensure_installed() -> BugsinkInstall:
    """Return the cached Bugsink virtualenv, building it first if needed.

    The venv is `$TRIPWIRE_BUGSINK_VENV` if set, else
    `~/.cache/tripwire-tests/bugsink-<version>-py3.X`. Safe when several
    processes call it at once: they serialize on a lock file beside it.
    """
    python, (major, minor) = find_python()
    override = os.environ.get("TRIPWIRE_BUGSINK_VENV")
    venv = (
        Path(override)
        if override
        else _cache_root() / f"bugsink-{BUGSINK_VERSION}-py{major}.{minor}"
    )
    install = BugsinkInstall(venv)
    if _is_ready(venv, python):
        return install
    with _locked(venv.with_name(venv.name + ".lock")):
        if _is_ready(venv, python):  # built by another process while we waited
            return install
        _say(f"building Bugsink {BUGSINK_VERSION} virtualenv in {venv} (once; ~1 minute)")
        started = time.monotonic()
        if venv.exists():
            shutil.rmtree(venv)
        log = venv.with_name(venv.name + ".build.log")
        log.write_text("")
        env = _clean_env()
        _run_logged([python, "-m", "venv", str(venv)], log, timeout=300, env=env)
        _run_logged(
            [str(install.python), "-m", "pip", "install", "--quiet", f"bugsink=={BUGSINK_VERSION}"],
            log,
            timeout=900,
            env=env,
        )
        _build_template_db(install, log)
        (venv / _READY_MARKER).write_text(
            json.dumps({"bugsink": BUGSINK_VERSION, "base_python": python})
        )
        _say(f"Bugsink virtualenv ready in {time.monotonic() - started:.0f}s")
    return install


def _write_conf(directory: Path, base_url: str) -> None:
    conf = _CONF_TEMPLATE.format(
        secret=os.urandom(32).hex(),
        db=str(directory / "db.sqlite3"),
        snappea_db=str(directory / "snappea.sqlite3"),
        wakeup=str(directory / "wakeup"),
        ingest_dir=str(directory / "ingestion"),
        base_url=base_url,
    )
    (directory / "bugsink_conf.py").write_text(conf)


def _django_env(directory: Path) -> dict[str, str]:
    return _clean_env(DJANGO_SETTINGS_MODULE="bugsink_conf", PYTHONPATH=str(directory))


def _build_template_db(install: BugsinkInstall, log: Path) -> None:
    """Migrate an empty database once; every server starts from a copy of it.

    Migrating takes several seconds; copying two files takes milliseconds.
    """
    with tempfile.TemporaryDirectory(prefix="bugsink-migrate-") as tmp:
        work = Path(tmp)
        _write_conf(work, "http://127.0.0.1:8000")
        env = _django_env(work)
        manage = [str(install.python), "-m", "bugsink.scripts.manage", "migrate", "--no-input"]
        _run_logged(manage, log, timeout=600, env=env, cwd=work)
        _run_logged([*manage, "--database=snappea"], log, timeout=300, env=env, cwd=work)
        staging = install.venv / "tripwire-template-db.tmp"
        staging.mkdir()
        for name in ("db.sqlite3", "snappea.sqlite3"):
            _sqlite_copy(work / name, staging / name)
        staging.rename(install.template_dir)


def _sqlite_copy(source: Path, target: Path) -> None:
    # The backup API copies a consistent image even if a WAL file is beside it.
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@dataclass(frozen=True)
class StoredIssue:
    """One issue as Bugsink's issue list shows it."""

    id: str
    title: str
    type: str
    value: str
    event_count: int
    last_frame_function: str


def _title(type_: str, value: str) -> str:
    # Bugsink's own rule (issues.utils.get_title_for_exception_type_and_value).
    return f"{type_}: {value.splitlines()[0]}" if value else type_


class BugsinkServer:
    """One Bugsink instance: configured, provisioned, served on 127.0.0.1.

    Use as a context manager, or call `start()` and `stop()`.
    """

    def __init__(self, workdir: Path, install: Optional[BugsinkInstall] = None) -> None:
        self.workdir = Path(workdir)
        self._install = install
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self.port = 0
        self.dsn = ""
        self.project_id = 0
        self.sentry_key = ""
        self.username = USERNAME
        self.password = PASSWORD

    # -- lifecycle ---------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.workdir / "db.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.workdir / "bugsink.log"

    @property
    def access_log_path(self) -> Path:
        return self.workdir / "access.log"

    def access_log(self) -> list[str]:
        """gunicorn's access log lines so far: method, path, status and User-Agent of each request."""
        try:
            return self.access_log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def __enter__(self) -> BugsinkServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, *, ready_timeout: float = 60.0) -> None:
        """Configure, provision and serve; return once the server answers."""
        install = self._install or ensure_installed()
        self._install = install
        self.workdir.mkdir(parents=True, exist_ok=True)
        # The listening socket is bound here and handed to gunicorn, so the
        # port is known before the configuration (which holds BASE_URL) is
        # written, and no other process can take it in between.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            self.port = listener.getsockname()[1]
            _write_conf(self.workdir, self.url)
            for name in ("db.sqlite3", "snappea.sqlite3"):
                shutil.copyfile(install.template_dir / name, self.workdir / name)
            self._provision(install)
            self._serve(install, listener)
        finally:
            listener.close()
        try:
            self._wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise

    def _provision(self, install: BugsinkInstall) -> None:
        script = self.workdir / "provision.py"
        script.write_text(_PROVISION_SCRIPT)
        result = subprocess.run(
            [str(install.python), str(script), self.username, self.password],
            capture_output=True,
            text=True,
            env=_django_env(self.workdir),
            cwd=self.workdir,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise BugsinkError(f"provisioning Bugsink failed:\n{result.stderr[-3000:]}")
        info = json.loads(result.stdout.strip().splitlines()[-1])
        self.dsn = info["dsn"]
        self.project_id = int(info["project_id"])
        self.sentry_key = info["sentry_key"]

    def _serve(self, install: BugsinkInstall, listener: socket.socket) -> None:
        fd = listener.fileno()
        cmd = [
            str(install.python),
            "-m",
            "gunicorn",
            f"--bind=fd://{fd}",
            "--workers=1",
            "--worker-class=gthread",
            "--threads=4",
            "--graceful-timeout=3",
            "--timeout=60",
            "--no-control-socket",
            f"--access-logfile={self.access_log_path}",
            f"--chdir={self.workdir}",
            "bugsink.wsgi",
        ]
        with open(self.log_path, "ab") as log:
            # A session of its own, so stop() can end gunicorn's worker too.
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_django_env(self.workdir),
                cwd=self.workdir,
                pass_fds=(fd,),
                start_new_session=True,
            )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        opener = _opener()
        while True:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                raise BugsinkError(f"Bugsink exited at start-up; log:\n{self._log_tail()}")
            try:
                with opener.open(f"{self.url}/health/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise BugsinkError(f"Bugsink not ready after {timeout}s; log:\n{self._log_tail()}")
            time.sleep(0.1)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gunicorn: SIGTERM, then SIGKILL to its process group after `timeout`."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # The worker may outlive a killed master; the group holds both.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- reading what was stored ------------------------------------------

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            yield conn
        finally:
            conn.close()

    def events(
        self, *, release: Optional[str] = None, issue_id: Optional[str] = None
    ) -> list[dict[str, object]]:
        """The stored event JSON of every event (or one release's, one issue's), oldest first."""
        query = "SELECT data FROM events_event WHERE project_id = ?"
        params: list[object] = [self.project_id]
        if release is not None:
            query += " AND release = ?"
            params.append(release)
        if issue_id is not None:
            query += " AND issue_id = ?"
            params.append(issue_id)
        with self._db() as conn:
            rows = conn.execute(query + " ORDER BY digested_at, digest_order", params).fetchall()
        return [json.loads(row[0]) for row in rows]

    def event(self, event_id: str) -> Optional[dict[str, object]]:
        """The stored event JSON with this event id (hex, dashes allowed), or None."""
        with self._db() as conn:
            row = conn.execute(
                "SELECT data FROM events_event WHERE project_id = ? AND event_id = ?",
                (self.project_id, event_id.replace("-", "").lower()),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def event_tags(self, event_id: str) -> dict[str, str]:
        """The tags Bugsink indexed for an event (what its UI lists and searches)."""
        with self._db() as conn:
            rows = conn.execute(
                "SELECT k.key, v.value FROM events_event e"
                " JOIN tags_eventtag et ON et.event_id = e.id"
                " JOIN tags_tagvalue v ON v.id = et.value_id"
                " JOIN tags_tagkey k ON k.id = v.key_id"
                " WHERE e.project_id = ? AND e.event_id = ?",
                (self.project_id, event_id.replace("-", "").lower()),
            ).fetchall()
        return dict(rows)

    def issues(self, *, release: Optional[str] = None) -> list[StoredIssue]:
        """The project's issues (or those with events of one release), oldest first."""
        query = (
            "SELECT i.id, i.calculated_type, i.calculated_value, i.digested_event_count,"
            " i.last_frame_function FROM issues_issue i WHERE i.project_id = ?"
            " AND NOT i.is_deleted"
        )
        params: list[object] = [self.project_id]
        if release is not None:
            query += " AND i.id IN (SELECT issue_id FROM events_event WHERE release = ?)"
            params.append(release)
        with self._db() as conn:
            rows = conn.execute(query + " ORDER BY i.digest_order", params).fetchall()
        return [
            StoredIssue(
                id=row[0],
                title=_title(row[1], row[2]),
                type=row[1],
                value=row[2],
                event_count=row[3],
                last_frame_function=row[4],
            )
            for row in rows
        ]

    def wait_for_events(
        self,
        count: int,
        *,
        timeout: float = 15.0,
        release: Optional[str] = None,
        where: Optional[Callable[[dict[str, object]], bool]] = None,
    ) -> list[dict[str, object]]:
        """Poll until at least `count` matching events are stored; return them all.

        Raises AssertionError naming what was found when `timeout` passes first.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(release=release)
            if where is not None:
                found = [e for e in found if where(e)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} event(s) (release={release!r}) in Bugsink within "
                    f"{timeout}s, found {len(found)}; last requests:\n"
                    + "\n".join(self.access_log()[-5:])
                    + f"\nserver log tail:\n{self._log_tail()[-1500:]}"
                )
            time.sleep(0.1)


def _opener() -> urllib.request.OpenerDirector:
    # No proxies: traffic must stay on 127.0.0.1 whatever *_proxy says.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float = 10.0
) -> tuple[int, bytes]:
    """POST to a loopback URL, bypassing proxies; return (status, body), errors included."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _opener().open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
