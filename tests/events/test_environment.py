"""Process facts: OS, runtime, release detection, modules, sdk, trace ids (``tripwire._environment``)."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

from tripwire import _environment
from tripwire._options import Options
from tripwire._version import VERSION

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98"


def test_os_context_has_a_name() -> None:
    """The os context names the OS and, on Linux/macOS, the kernel version."""
    context = _environment.os_context()
    assert context["name"]
    if sys.platform.startswith("linux") or sys.platform == "darwin":
        assert context["kernel_version"]


def test_runtime_context() -> None:
    """The runtime context names the implementation and its version."""
    context = _environment.runtime_context()
    assert context["name"] in ("CPython", "PyPy")
    assert context["version"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert context["build"] == sys.version


def test_contexts_are_copies() -> None:
    """Changing a returned context does not change the cached one."""
    _environment.os_context()["name"] = "changed"
    assert _environment.os_context()["name"] != "changed"


def test_release_from_ci_variables() -> None:
    """CI/PaaS commit variables are used, in a fixed order of preference."""
    assert _environment.detect_release({"HEROKU_SLUG_COMMIT": "abc"}) == "abc"
    assert _environment.detect_release({"VERCEL_GIT_COMMIT_SHA": "v", "GITHUB_SHA": "g"}) == "g"
    assert _environment.detect_release({"CODEBUILD_RESOLVED_SOURCE_VERSION": " c "}) == "c"


def test_release_from_git_head_on_branch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Without CI variables the branch's commit is read from .git files."""
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    assert _environment.detect_release({}, cwd=str(nested)) == SHA


def test_release_from_packed_refs_and_detached_head(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Packed refs and a detached HEAD are both understood."""
    git = tmp_path / ".git"
    git.mkdir()
    (git / "HEAD").write_text("ref: refs/heads/dev\n")
    (git / "packed-refs").write_text(f"# pack-refs\n{OTHER_SHA} refs/heads/dev\n^{SHA}\n")
    assert _environment.detect_release({}, cwd=str(tmp_path)) == OTHER_SHA
    (git / "HEAD").write_text(SHA + "\n")
    assert _environment.detect_release({}, cwd=str(tmp_path)) == SHA


def test_release_from_worktree_gitdir_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A .git file pointing elsewhere (worktree) is followed, branches read from commondir."""
    main_git = tmp_path / "main" / ".git"
    (main_git / "refs" / "heads").mkdir(parents=True)
    (main_git / "refs" / "heads" / "feature").write_text(SHA + "\n")
    wt_git = main_git / "worktrees" / "wt"
    wt_git.mkdir(parents=True)
    (wt_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (wt_git / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {wt_git}\n")
    assert _environment.detect_release({}, cwd=str(checkout)) == SHA


def test_release_none_outside_git(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No CI variable and no checkout: no release."""
    assert _environment.detect_release({}, cwd=str(tmp_path)) is None


def test_release_matches_git_in_a_real_repository(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The file-based reader agrees with git itself on a real repository."""
    run = {"cwd": tmp_path, "check": True, "capture_output": True, "timeout": 30}
    try:
        subprocess.run(["git", "init", "-q", "-b", "trunk"], **run)  # type: ignore[call-overload]
    except (FileNotFoundError, subprocess.CalledProcessError):
        import pytest

        pytest.skip("git is not available")
    (tmp_path / "f").write_text("x")
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "add", "f"], **run)  # type: ignore[call-overload]
    subprocess.run(["git", *env, "commit", "-q", "-m", "m"], **run)  # type: ignore[call-overload]
    subprocess.run(["git", "pack-refs", "--all"], **run)  # type: ignore[call-overload]
    head = subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.decode().strip()  # type: ignore[call-overload]
    assert _environment.detect_release({}, cwd=str(tmp_path)) == head


def test_installed_modules_lists_distributions() -> None:
    """installed_modules maps normalised distribution names to versions, cached."""
    modules = _environment.installed_modules()
    assert "pytest" in modules
    assert all(name == name.lower() for name in modules)
    assert _environment.installed_modules() is modules


def test_server_name_follows_pii_rules() -> None:
    """The option wins; otherwise the hostname only when personal data is allowed."""
    options = Options()
    assert _environment.server_name(options) is None
    assert _environment.server_name(dataclasses.replace(options, server_name="web-1")) == "web-1"
    assert _environment.server_name(dataclasses.replace(options, send_default_pii=True))


def test_sdk_info() -> None:
    """The sdk payload has the spec's name form, version, integrations and package."""
    info = _environment.sdk_info(["logging", "atexit", "logging"])
    assert info == {
        "name": "sentry.python.tripwire",
        "version": VERSION,
        "integrations": ["atexit", "logging"],
        "packages": [{"name": "pypi:tripwire", "version": VERSION}],
    }


def test_new_trace_context() -> None:
    """Trace contexts are fresh 32-hex trace ids and 16-hex span ids."""
    first, second = _environment.new_trace_context(), _environment.new_trace_context()
    assert re.fullmatch(r"[0-9a-f]{32}", first["trace_id"])
    assert re.fullmatch(r"[0-9a-f]{16}", first["span_id"])
    assert first["trace_id"] != second["trace_id"]


def test_import_does_no_platform_work() -> None:
    """The module imports no platform, socket or subprocess at import time."""
    import ast

    tree = ast.parse(open(_environment.__file__, encoding="utf-8").read())
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module)
    assert not top_level & {"platform", "socket", "subprocess", "importlib.metadata"}
