"""Every option tripwire accepts, its default, its meaning, and its validation.

``init()`` builds one frozen :class:`Options` through :func:`build_options`; an
unknown option name or a value of the wrong type fails right there with a
message naming the option, and never echoing the DSN's secret.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ._dsn import Dsn
from ._log import logger

_TRUTHY = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSY = frozenset({"0", "false", "f", "no", "n", "off", ""})

# sentry_sdk options that belong to features tripwire does not have (tracing,
# profiling, ...). Accepted and ignored so ``import tripwire as sentry_sdk``
# keeps working for code that passes them; everything else unknown is an error.
IGNORED_SENTRY_OPTIONS = frozenset(
    {
        "traces_sample_rate",
        "traces_sampler",
        "profiles_sample_rate",
        "profiles_sampler",
        "profile_session_sample_rate",
        "profile_lifecycle",
        "enable_tracing",
        "trace_propagation_targets",
        "propagate_traces",
        "instrumenter",
        "enable_backpressure_handling",
        "enable_db_query_source",
        "db_query_source_threshold_ms",
        "enable_logs",
        "before_send_log",
        "before_send_transaction",
        "functions_to_trace",
        "auto_session_tracking",
        "auto_enabling_integrations",
        "spotlight",
        "keep_alive",
        "socket_options",
        "_experiments",
    }
)


def _opt(default: Any, doc: str, check: Callable[[str, Any], Any] | None = None) -> Any:
    return field(default=default, metadata={"doc": doc, "check": check})


def _opt_list(doc: str) -> Any:
    return field(default=(), metadata={"doc": doc, "check": _check_str_seq})


# --- validators: each returns the normalised value or raises with the option's name ---


def _expect(name: str, expected: str, value: object) -> TypeError:
    return TypeError(f"option {name!r} expects {expected}, got {type(value).__name__}")


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _expect(name, "True or False", value)
    return value


def _check_opt_str(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _expect(name, "a string or None", value)
    return value


def _check_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _expect(name, "a string", value)
    return value


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _expect(name, "an integer", value)
    if value < 0:
        raise ValueError(f"option {name!r} must be 0 or more, got {value}")
    return value


def _check_opt_count(name: str, value: Any) -> int | None:
    return None if value is None else _check_count(name, value)


def _check_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _expect(name, "a number of seconds", value)
    if not value >= 0:
        raise ValueError(f"option {name!r} must be 0 or more seconds, got {value}")
    return float(value)


def _check_rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _expect(name, "a number from 0.0 to 1.0", value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"option {name!r} must be from 0.0 to 1.0, got {value}")
    return float(value)


def _check_callable(name: str, value: Any) -> Any:
    if value is not None and not callable(value):
        raise _expect(name, "a callable or None", value)
    return value


def _check_str_seq(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _expect(name, "a list of strings", value)
    for item in value:
        if not isinstance(item, str):
            raise TypeError(
                f"option {name!r} expects a list of strings, found {type(item).__name__}"
            )
    return tuple(value)


def _check_ignore_errors(name: str, value: Any) -> tuple[type | str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, type)) or not isinstance(value, Sequence):
        raise _expect(name, "a list of exception types or names", value)
    for item in value:
        if not isinstance(item, str) and not (
            isinstance(item, type) and issubclass(item, BaseException)
        ):
            raise TypeError(f"option {name!r} expects exception types or names, found {item!r}")
    return tuple(value)


def _check_choice(*choices: str) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if value not in choices:
            raise ValueError(
                f"option {name!r} must be one of {', '.join(map(repr, choices))}, got {value!r}"
            )
        return str(value)

    return check


def _check_compression_level(name: str, value: Any) -> int:
    level = _check_count(name, value)
    if level > 9:
        raise ValueError(f"option {name!r} must be from 0 (off) to 9, got {level}")
    return level


def _check_list(name: str, value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _expect(name, "a list", value)
    return tuple(value)


def _check_disabled_integrations(name: str, value: Any) -> tuple[Any, ...]:
    return _check_list(name, value)


def _check_transport(name: str, value: Any) -> Any:
    if value is not None and not callable(value) and not hasattr(value, "capture_event"):
        raise _expect(name, "a Transport instance, a callable taking an envelope, or None", value)
    return value


@dataclass(frozen=True)
class Options:
    """The validated configuration of a client. Built once by :func:`build_options`."""

    dsn: Optional[Dsn] = _opt(
        None, "Where events go. Falls back to SENTRY_DSN; without one the SDK is disabled."
    )
    debug: bool = _opt(
        False, "Print the SDK's own log to stderr. Falls back to SENTRY_DEBUG.", _check_bool
    )
    release: Optional[str] = _opt(
        None,
        "The release of your application. Falls back to SENTRY_RELEASE, then to what is "
        "detected from CI/PaaS variables or the git checkout.",
        _check_opt_str,
    )
    environment: str = _opt(
        "production", "The environment name. Falls back to SENTRY_ENVIRONMENT.", _check_str
    )
    dist: Optional[str] = _opt(None, "The distribution (build) of the release.", _check_opt_str)
    server_name: Optional[str] = _opt(
        None,
        "The server name sent with events; the machine's hostname when unset.",
        _check_opt_str,
    )
    sample_rate: float = _opt(
        1.0, "Fraction of error events sent, decided before any work is done.", _check_rate
    )
    max_breadcrumbs: int = _opt(100, "Breadcrumbs kept per scope; 0 disables.", _check_count)
    before_send: Optional[Callable[..., Any]] = _opt(
        None,
        "before_send(event, hint): return the event (changed or not) or None to drop it.",
        _check_callable,
    )
    before_breadcrumb: Optional[Callable[..., Any]] = _opt(
        None,
        "before_breadcrumb(crumb, hint): return the crumb or None to drop it.",
        _check_callable,
    )
    after_send: Optional[Callable[..., Any]] = _opt(
        None,
        "after_send(result): called on the worker once an event has left the process or "
        "definitely failed to.",
        _check_callable,
    )
    attach_stacktrace: bool = _opt(
        False, "Add the current thread's stack to messages.", _check_bool
    )
    include_local_variables: bool = _opt(
        True, "Send a snapshot of each frame's local variables.", _check_bool
    )
    max_stack_frames: int = _opt(
        100, "Frames kept per stack trace; the middle of deeper stacks is cut.", _check_count
    )
    max_value_length: Optional[int] = _opt(
        None,
        "Characters kept per string value; None means no per-string limit.",
        _check_opt_count,
    )
    repr_time_budget: float = _opt(
        0.1,
        "Seconds an event may spend in repr() of unknown objects in local variables; "
        "later values become a placeholder.",
        _check_seconds,
    )
    custom_repr: Optional[Callable[[object], Optional[str]]] = _opt(
        None,
        "custom_repr(value): a string to show for value, or None for the default.",
        _check_callable,
    )
    in_app_include: tuple[str, ...] = _opt_list(
        "Module prefixes whose frames are in_app, whatever their location."
    )
    in_app_exclude: tuple[str, ...] = _opt_list("Module prefixes whose frames are not in_app.")
    send_default_pii: bool = _opt(
        False,
        "Send personal data: cookies, request bodies, IP addresses, server name, user names.",
        _check_bool,
    )
    scrub_data: bool = _opt(
        True,
        "Replace values of sensitive-looking keys, URL credentials and tokens with [Filtered].",
        _check_bool,
    )
    scrub_keys: tuple[str, ...] = _opt_list(
        "More key fragments (case-insensitive substrings) whose values are scrubbed."
    )
    ignore_errors: tuple[Any, ...] = _opt(
        (),
        "Exceptions never sent: types (and subclasses), names, or 'pkg.*' patterns.",
        _check_ignore_errors,
    )
    max_request_body_size: str = _opt(
        "medium",
        "Request bodies attached by web integrations when PII is allowed: "
        "never, small (1 KB), medium (10 KB) or always.",
        _check_choice("never", "small", "medium", "always"),
    )
    integrations: tuple[Any, ...] = _opt(
        (), "Integration instances to enable in addition to the defaults.", _check_list
    )
    default_integrations: bool = _opt(True, "Enable the default integrations.", _check_bool)
    disabled_integrations: tuple[Any, ...] = _opt(
        (),
        "Integrations (classes, instances or identifiers) not to enable.",
        _check_disabled_integrations,
    )
    shutdown_timeout: float = _opt(
        2.0, "Seconds to spend sending pending events at interpreter exit.", _check_seconds
    )
    transport: Any = _opt(
        None,
        "A Transport instance or a callable receiving each envelope, instead of HTTP.",
        _check_transport,
    )
    use_store_endpoint: bool = _opt(
        False, "Send events as plain JSON to the legacy /store/ endpoint.", _check_bool
    )
    compression_level: int = _opt(
        6,
        "gzip/brotli level for request bodies; 0 disables compression.",
        _check_compression_level,
    )
    compression_algorithm: str = _opt(
        "gzip", "gzip, or br when the brotli package is installed.", _check_choice("gzip", "br")
    )
    http_proxy: Optional[str] = _opt(
        None, "Proxy for http:// DSNs; falls back to HTTP_PROXY.", _check_opt_str
    )
    https_proxy: Optional[str] = _opt(
        None, "Proxy for https:// DSNs; falls back to HTTPS_PROXY.", _check_opt_str
    )
    ca_certs: Optional[str] = _opt(
        None, "Path to a CA bundle; certifi's bundle when unset.", _check_opt_str
    )
    cert_file: Optional[str] = _opt(
        None, "Client certificate (PEM) for mutual TLS.", _check_opt_str
    )
    key_file: Optional[str] = _opt(
        None, "Private key (PEM) of the client certificate.", _check_opt_str
    )
    connect_timeout: float = _opt(5.0, "Seconds to wait for a connection.", _check_seconds)
    read_timeout: float = _opt(10.0, "Seconds to wait for a response.", _check_seconds)
    max_queue_size: int = _opt(
        10_000, "Events waiting to be sent; more are dropped and counted.", _check_count
    )
    max_queue_bytes: int = _opt(
        64 * 1024 * 1024,
        "Estimated bytes of events waiting to be sent; more are dropped and counted.",
        _check_count,
    )
    send_client_reports: bool = _opt(
        True, "Tell the server how many events were dropped and why.", _check_bool
    )
    minidump_as_envelope: bool = _opt(
        False,
        "Send minidumps as event.minidump attachments in an envelope instead of a multipart "
        "upload to /minidump/.",
        _check_bool,
    )
    minidump_bracket_fields: bool = _opt(
        False,
        "Write the event of a minidump upload as sentry[...] form fields instead of JSON.",
        _check_bool,
    )

    def integration_disabled(self, identifier: str) -> bool:
        """True when ``disabled_integrations`` names ``identifier`` (by name, class or instance)."""
        return any(
            entry == identifier or getattr(entry, "identifier", None) == identifier
            for entry in self.disabled_integrations
        )

    @property
    def enabled(self) -> bool:
        """True when events can be sent (a DSN or a custom transport is configured)."""
        return self.dsn is not None or self.transport is not None


OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Options))


def option_docs() -> list[tuple[str, object, str]]:
    """(name, default, meaning) of every option, for the documentation."""
    return [(f.name, f.default, f.metadata["doc"]) for f in dataclasses.fields(Options)]


def _env_flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUTHY:
        return True
    if lowered in _FALSY:
        return False
    raise ValueError(f"environment variable {name} must be a boolean such as 1/0, got {value!r}")


def _unknown_option(name: str) -> TypeError:
    close = difflib.get_close_matches(name, OPTION_NAMES, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return TypeError(f"unknown option {name!r}{hint}")


def build_options(
    dsn: object = None,
    environ: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Options:
    """Validate ``init()`` arguments, apply environment fall-backs, and freeze them."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, value in kwargs.items():
        if name in IGNORED_SENTRY_OPTIONS:
            logger.info("option %r belongs to a sentry_sdk feature tripwire lacks; ignored", name)
            continue
        if name not in OPTION_NAMES or name == "dsn":
            raise _unknown_option(name)
        values[name] = value

    if dsn is None:
        dsn = env.get("SENTRY_DSN") or None
    values["dsn"] = Dsn.parse(dsn) if dsn else None
    if values.get("release") is None and env.get("SENTRY_RELEASE"):
        values["release"] = env["SENTRY_RELEASE"]
    if values.get("environment") is None:
        values.pop("environment", None)
        if env.get("SENTRY_ENVIRONMENT"):
            values["environment"] = env["SENTRY_ENVIRONMENT"]
    if "debug" not in values and env.get("SENTRY_DEBUG"):
        values["debug"] = _env_flag("SENTRY_DEBUG", env["SENTRY_DEBUG"])

    checked: dict[str, Any] = {}
    for f in dataclasses.fields(Options):
        if f.name not in values:
            continue
        check = f.metadata["check"]
        checked[f.name] = check(f.name, values[f.name]) if check else values[f.name]
    return Options(**checked)
