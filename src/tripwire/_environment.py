"""Facts about the process an event comes from: OS, runtime, release, packages, host.

Each is computed on first use and cached for the life of the process, so
importing this module costs nothing and later events pay a dict lookup.
Nothing here starts a subprocess: the git release is read from ``.git`` files.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Mapping
from typing import Dict, Optional

from ._options import Options
from ._version import VERSION

SDK_NAME = "sentry.python.tripwire"

#: Environment variables CI systems and platforms set to the deployed commit,
#: in the order they are tried.
RELEASE_VARIABLES: tuple[str, ...] = (
    "GITHUB_SHA",  # GitHub Actions
    "CI_COMMIT_SHA",  # GitLab CI
    "CIRCLE_SHA1",  # CircleCI
    "TRAVIS_COMMIT",  # Travis CI
    "BITBUCKET_COMMIT",  # Bitbucket Pipelines
    "BUILDKITE_COMMIT",  # Buildkite
    "DRONE_COMMIT_SHA",  # Drone
    "CODEBUILD_RESOLVED_SOURCE_VERSION",  # AWS CodeBuild
    "BUILD_SOURCEVERSION",  # Azure Pipelines
    "GIT_COMMIT",  # Jenkins
    "HEROKU_SLUG_COMMIT",  # Heroku (dyno metadata)
    "SOURCE_VERSION",  # Heroku builds, Scalingo
    "VERCEL_GIT_COMMIT_SHA",  # Vercel
    "RENDER_GIT_COMMIT",  # Render
    "RAILWAY_GIT_COMMIT_SHA",  # Railway
    "KOYEB_GIT_SHA",  # Koyeb
    "CF_PAGES_COMMIT_SHA",  # Cloudflare Pages
    "COMMIT_REF",  # Netlify
    "ZEIT_GITHUB_COMMIT_SHA",  # old Vercel
    "K_REVISION",  # Cloud Run (a revision name, not a commit)
)

_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


def os_context() -> Dict[str, str]:
    """The ``contexts.os`` payload: name, version, kernel_version (and build on Windows)."""
    return dict(_os_context())


def runtime_context() -> Dict[str, str]:
    """The ``contexts.runtime`` payload: name (CPython, PyPy...), version, build."""
    return dict(_runtime_context())


@functools.cache
def _os_context() -> Dict[str, str]:
    import platform

    system = platform.system() or sys.platform
    release = platform.release()
    context: dict[str, str] = {"name": system}
    if system == "Linux":
        name, version = _os_release()
        if name:
            context["name"] = name
        if version:
            context["version"] = version
        if release:
            context["kernel_version"] = release
    elif system == "Darwin":
        context["name"] = "macOS"
        mac_version = platform.mac_ver()[0]
        if mac_version:
            context["version"] = mac_version
        if release:
            context["kernel_version"] = release
    elif system == "Windows":
        win_release, win_version, _, _ = platform.win32_ver()
        if win_release:
            context["version"] = win_release
        if win_version:
            context["build"] = win_version
            context["kernel_version"] = win_version
    elif release:
        context["version"] = release
        context["kernel_version"] = release
    return context


def _os_release() -> tuple[str, str]:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read(64 * 1024)
        except OSError:
            continue
        fields: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                fields[key.strip()] = value.strip().strip("\"'")
        return fields.get("NAME", "Linux"), fields.get("VERSION_ID", "")
    return "Linux", ""


@functools.cache
def _runtime_context() -> Dict[str, str]:
    import platform

    info = sys.version_info
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(info.releaselevel, "")
        version += str(info.serial)
    return {
        "name": platform.python_implementation(),
        "version": version,
        "build": sys.version,
    }


def detect_release(environ: Mapping[str, str], cwd: Optional[str] = None) -> str | None:
    """The release from CI/PaaS variables, else the commit of the git checkout, else None.

    ``SENTRY_RELEASE`` is not looked at here: the options already did.
    """
    for name in RELEASE_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    try:
        return git_head(os.getcwd() if cwd is None else cwd)
    except Exception:
        return None


def _git_dir(start: str) -> str | None:
    path = os.path.abspath(start)
    while True:
        candidate = os.path.join(path, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):
            # Worktrees and submodules: ".git" is a file saying "gitdir: <path>".
            with open(candidate, encoding="utf-8", errors="replace") as handle:
                line = handle.readline().strip()
            if line.startswith("gitdir:"):
                target = line[len("gitdir:") :].strip()
                return os.path.normpath(os.path.join(path, target))
            return None
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(4096).strip()
    except OSError:
        return None


def git_head(start: str) -> str | None:
    """The commit checked out in the git repository containing ``start``, read from files."""
    git_dir = _git_dir(start)
    if git_dir is None:
        return None
    head = _read(os.path.join(git_dir, "HEAD"))
    if not head:
        return None
    if not head.startswith("ref:"):
        return head if _SHA.match(head) else None
    ref = head[len("ref:") :].strip()
    # A linked worktree keeps its branches in the main repository's directory.
    common = _read(os.path.join(git_dir, "commondir"))
    dirs = [git_dir]
    if common:
        dirs.append(os.path.normpath(os.path.join(git_dir, common)))
    for directory in dirs:
        sha = _read(os.path.join(directory, *ref.split("/")))
        if sha and _SHA.match(sha):
            return sha
    for directory in dirs:
        packed = _read_packed_refs(os.path.join(directory, "packed-refs"))
        if ref in packed:
            return packed[ref]
    return None


def _read_packed_refs(path: str) -> dict[str, str]:
    refs: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(("#", "^")):
                    continue
                sha, _, name = line.strip().partition(" ")
                if name and _SHA.match(sha):
                    refs[name] = sha
    except OSError:
        pass
    return refs


@functools.cache
def installed_modules() -> Dict[str, str]:
    """``{distribution name: version}`` of every installed distribution (computed once)."""
    from importlib import metadata

    modules: dict[str, str] = {}
    try:
        for dist in metadata.distributions():
            try:
                name = dist.metadata["Name"]
                version = dist.version
            except Exception:
                continue
            if isinstance(name, str) and name and isinstance(version, str):
                modules.setdefault(re.sub(r"[-_.]+", "-", name).lower(), version)
    except Exception:
        pass
    return dict(sorted(modules.items()))


_hostname: list[str] = []


def server_name(options: Options) -> str | None:
    """``server_name`` of events: the option, else the hostname when personal data is allowed."""
    if options.server_name:
        return options.server_name
    if not options.send_default_pii:
        return None
    if not _hostname:
        import socket  # lazily: most processes never send a server name

        try:
            _hostname.append(socket.gethostname())
        except OSError:
            _hostname.append("")
    return _hostname[0] or None


def sdk_info(integrations: list[str]) -> Dict[str, object]:
    """The ``sdk`` payload naming tripwire, its version and enabled integrations."""
    return {
        "name": SDK_NAME,
        "version": VERSION,
        "integrations": sorted({str(i) for i in integrations}),
        "packages": [{"name": "pypi:tripwire", "version": VERSION}],
    }


def new_trace_context() -> Dict[str, str]:
    """A fresh ``contexts.trace``: a 32-hex trace_id and a 16-hex span_id."""
    return {"trace_id": os.urandom(16).hex(), "span_id": os.urandom(8).hex()}
