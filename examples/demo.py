"""tripwire, end to end, in one command: a crashing program reported to a local Bugsink.

    python examples/demo.py            # keeps Bugsink up for your browser until Ctrl-C
    python examples/demo.py --no-wait  # prints what was stored and exits (what CI runs)

Steps: start Bugsink (a Sentry-compatible server) on 127.0.0.1, run
examples/crashing_app.py against it, upload a fixture minidump with
tripwire.capture_minidump, then print what the server stored. The first run
builds Bugsink's own virtualenv (about a minute); later runs start in seconds.
See docs/demo.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "examples" / "crashing_app.py"
RELEASE = "crashing-app@1.0.0"

# The Bugsink harness of the end-to-end tests is the demo's server too.
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from bugsink_server import (  # noqa: E402
    BUGSINK_VERSION,
    MINIDUMP_FIXTURES,
    BugsinkServer,
    ensure_installed,
)

import tripwire  # noqa: E402

FRAMES_SHOWN = 6


def step(number: int, text: str) -> None:
    print(f"\n{number}. {text}", flush=True)


def indent(text: str, prefix: str = "   | ") -> str:
    return "\n".join(prefix + line for line in text.rstrip().splitlines())


def start_bugsink(workdir: Path) -> BugsinkServer:
    step(1, f"Starting Bugsink {BUGSINK_VERSION} on 127.0.0.1")
    started = time.monotonic()
    install = ensure_installed()  # builds the cached venv on the first run only
    server = BugsinkServer(workdir, install)
    server.start()
    print(f"   ready at {server.url} in {time.monotonic() - started:.1f}s")
    print(f"   project DSN: {server.dsn}")
    return server


def run_crashing_app(server: BugsinkServer) -> bool:
    step(2, f"Running {APP.relative_to(ROOT)} with SENTRY_DSN set")
    env = dict(os.environ, SENTRY_DSN=server.dsn, SENTRY_RELEASE=RELEASE, PYTHONUNBUFFERED="1")
    env.pop("SENTRY_ENVIRONMENT", None)
    try:
        result = subprocess.run(
            [sys.executable, str(APP)],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print("   the app did not finish within 60s")
        return False
    print(indent(result.stdout))
    print(
        f"   exit status {result.returncode} (1 is expected: the app dies of an uncaught exception)"
    )
    return result.returncode == 1


def upload_minidump(server: BugsinkServer) -> bool:
    dump = MINIDUMP_FIXTURES / "crash_linux.dmp"
    step(3, f"Uploading the native crash {dump.name} with tripwire.capture_minidump")
    if not dump.exists():
        print(f"   fixture {dump} not found")
        return False
    with tripwire.init(server.dsn, release=RELEASE, environment="demo"):
        tripwire.set_tag("source", "demo.py")
        event_id = tripwire.capture_minidump(dump, fields={"uploaded_by": "examples/demo.py"})
        tripwire.flush(10.0)
        # Bugsink gives a minidump an event id of its own; tripwire reports that one.
        stored_id = tripwire.last_event_id() or event_id
    print(f"   uploaded; the server's event id is {stored_id}")
    return event_id is not None


def describe_frame(frame: dict[str, object]) -> str:
    function = frame.get("function")
    filename = frame.get("filename") or frame.get("abs_path")
    if filename:
        return f"{function or '?'}  ({filename}:{frame.get('lineno', '?')})"
    # A native frame of an unsymbolicated minidump: an address, perhaps a module.
    where = f"  in {frame['package']}" if frame.get("package") else ""
    return f"{function or 'native'} @ {frame.get('instruction_addr', '?')}{where}"


def describe_event(event: dict[str, object]) -> list[str]:
    lines: list[str] = []
    user = event.get("user")
    username = user.get("username") or user.get("id") if isinstance(user, dict) else None
    lines.append(
        f"release {event.get('release') or '-'} | environment {event.get('environment') or '-'}"
        f" | level {event.get('level') or '-'} | user {username or '-'}"
    )
    tags = event.get("tags")
    if isinstance(tags, dict) and tags:
        lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in sorted(tags.items())))
    elif isinstance(tags, list) and tags:
        lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in tags))
    crumbs = event.get("breadcrumbs")
    if isinstance(crumbs, dict):
        crumbs = crumbs.get("values")
    if isinstance(crumbs, list) and crumbs:
        lines.append(f"breadcrumbs ({len(crumbs)}, last 4):")
        for crumb in crumbs[-4:]:
            if isinstance(crumb, dict):
                lines.append(f"  [{crumb.get('category') or '-'}] {crumb.get('message') or ''}")
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    if isinstance(values, list):
        lines.append("exception chain (oldest first):")
        for value in values:
            if not isinstance(value, dict):
                continue
            mechanism = value.get("mechanism")
            how = ""
            if isinstance(mechanism, dict) and mechanism.get("type"):
                handled = "handled" if mechanism.get("handled", True) else "unhandled"
                how = f"   [{handled}, via {mechanism['type']}]"
            lines.append(f"  {value.get('type')}: {value.get('value')}{how}")
            stacktrace = value.get("stacktrace")
            frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
            if not isinstance(frames, list):
                continue
            if len(frames) > FRAMES_SHOWN:
                lines.append(f"      ... {len(frames) - FRAMES_SHOWN} older frames")
            for frame in frames[-FRAMES_SHOWN:]:
                if isinstance(frame, dict):
                    lines.append("      " + describe_frame(frame))
            last = frames[-1] if frames else None
            variables = last.get("vars") if isinstance(last, dict) else None
            if isinstance(variables, dict) and variables:
                shown = ", ".join(f"{k}={v}" for k, v in list(variables.items())[:6])
                lines.append(f"      locals of the last frame: {shown}")
    return lines


def is_unhandled_crash(event: dict[str, object]) -> bool:
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else None
    last = values[-1] if isinstance(values, list) and values else None
    mechanism = last.get("mechanism") if isinstance(last, dict) else None
    return isinstance(mechanism, dict) and mechanism.get("handled") is False


def show_stored(server: BugsinkServer) -> list[dict[str, object]]:
    step(4, "What Bugsink stored")
    events = server.events()
    issues = server.issues()
    print(f"   {len(issues)} issue(s), {len(events)} event(s)")
    for issue in issues:
        print(f"\n   ISSUE  {issue.title}   [{issue.event_count} event(s)]")
        latest = server.events(issue_id=issue.id)[-1:]
        for event in latest:
            print(indent("\n".join(describe_event(event)), "          "))
    return events


def wait_for_ctrl_c(server: BugsinkServer) -> None:
    print("\n   Bugsink keeps running; press Ctrl-C to stop it and exit.", flush=True)
    while server.running:
        time.sleep(1)
    print("   Bugsink stopped on its own; exiting.")


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-wait", action="store_true", help="exit after printing instead of serving the UI"
    )
    args = parser.parse_args(argv)
    # Ctrl-C and SIGTERM both end in the finally below, which stops Bugsink;
    # SIGINT is set explicitly because a parent may have left it ignored.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)

    print(f"tripwire {tripwire.__version__} demo: a crashing program reported to a local Bugsink")
    server: BugsinkServer | None = None
    ok = finished = False
    with tempfile.TemporaryDirectory(prefix="tripwire-demo-") as workdir:
        try:
            server = start_bugsink(Path(workdir))
            app_ok = run_crashing_app(server)
            minidump_ok = upload_minidump(server)
            events = show_stored(server)
            crash_stored = any(map(is_unhandled_crash, events))
            native_stored = any(e.get("platform") == "native" for e in events)

            step(5, "Look at it in a browser")
            print(f"   {server.url}/   login: {server.username} / {server.password}")
            ok = app_ok and crash_stored and minidump_ok and native_stored
            if not crash_stored:
                print("\n   FAILED: the crash of crashing_app.py was not stored")
            if not (minidump_ok and native_stored):
                print("\n   FAILED: the minidump uploaded by tripwire was not stored")
            finished = True
            if not args.no_wait:
                wait_for_ctrl_c(server)
            return 0 if ok else 1
        except KeyboardInterrupt:
            print("\n   stopping Bugsink")
            return (0 if ok else 1) if finished else 130
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    sys.exit(main())
