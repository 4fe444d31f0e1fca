"""Option validation, defaults and environment fall-backs."""

from __future__ import annotations

import pytest

from tripwire import BadDsn
from tripwire._options import OPTION_NAMES, Options, build_options, option_docs


def test_defaults_match_the_documented_ones() -> None:
    """Without arguments the SDK is disabled, in production, with sentry_sdk's limits."""
    options = build_options(environ={})
    assert options.dsn is None
    assert not options.enabled
    assert options.environment == "production"
    assert options.max_breadcrumbs == 100
    assert options.max_stack_frames == 100
    assert options.sample_rate == 1.0
    assert options.shutdown_timeout == 2.0
    assert options.send_default_pii is False
    assert options.include_local_variables is True


def test_unknown_option_names_the_closest_valid_one() -> None:
    """A misspelt option raises TypeError naming it and suggesting the right name."""
    with pytest.raises(TypeError, match="'sample_rat'.*'sample_rate'"):
        build_options(environ={}, sample_rat=0.5)


def test_unknown_option_without_a_close_match() -> None:
    """An option unlike any other raises TypeError naming it."""
    with pytest.raises(TypeError, match="unknown option 'zzzz'"):
        build_options(environ={}, zzzz=1)


@pytest.mark.parametrize(
    ("name", "value", "error", "fragment"),
    [
        ("sample_rate", "0.5", TypeError, "sample_rate"),
        ("sample_rate", 1.5, ValueError, "0.0 to 1.0"),
        ("max_breadcrumbs", -1, ValueError, "0 or more"),
        ("max_breadcrumbs", 1.5, TypeError, "integer"),
        ("debug", "yes", TypeError, "True or False"),
        ("before_send", 42, TypeError, "callable"),
        ("in_app_include", "myapp", TypeError, "list of strings"),
        ("in_app_include", ["ok", 3], TypeError, "list of strings"),
        ("ignore_errors", [42], TypeError, "exception types or names"),
        ("max_request_body_size", "huge", ValueError, "never"),
        ("compression_level", 12, ValueError, "0 \\(off\\) to 9"),
        ("shutdown_timeout", -1, ValueError, "seconds"),
        ("environment", 3, TypeError, "string"),
    ],
)
def test_wrong_types_say_which_option_and_what_was_expected(
    name: str, value: object, error: type[Exception], fragment: str
) -> None:
    """A value of the wrong type or range names the option and what it expects."""
    with pytest.raises(error, match=fragment) as info:
        build_options(environ={}, **{name: value})
    assert name in str(info.value)


def test_environment_fallbacks() -> None:
    """SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT and SENTRY_DEBUG fill unset options."""
    options = build_options(
        environ={
            "SENTRY_DSN": "https://pub@example.com/1",
            "SENTRY_RELEASE": "app@1.2.3",
            "SENTRY_ENVIRONMENT": "staging",
            "SENTRY_DEBUG": "true",
        }
    )
    assert options.dsn is not None and options.dsn.project_id == "1"
    assert options.release == "app@1.2.3"
    assert options.environment == "staging"
    assert options.debug is True


def test_arguments_win_over_the_environment() -> None:
    """Explicit arguments take precedence over environment variables."""
    options = build_options(
        "https://other@example.com/2",
        environ={"SENTRY_DSN": "https://pub@example.com/1", "SENTRY_RELEASE": "env"},
        release="arg",
    )
    assert options.dsn is not None and options.dsn.public_key == "other"
    assert options.release == "arg"


def test_bad_sentry_debug_value_is_reported() -> None:
    """An unparseable SENTRY_DEBUG says which variable is wrong."""
    with pytest.raises(ValueError, match="SENTRY_DEBUG"):
        build_options(environ={"SENTRY_DEBUG": "maybe"})


def test_bad_dsn_from_environment_raises_baddsn() -> None:
    """A malformed SENTRY_DSN raises BadDsn at init time."""
    with pytest.raises(BadDsn):
        build_options(environ={"SENTRY_DSN": "nonsense"})


def test_sentry_only_options_are_accepted_and_ignored() -> None:
    """Tracing options of sentry_sdk do not break code that switches to tripwire."""
    options = build_options(environ={}, traces_sample_rate=1.0, profiles_sample_rate=0.1)
    assert isinstance(options, Options)


def test_options_are_frozen() -> None:
    """Options cannot be changed after init."""
    options = build_options(environ={})
    with pytest.raises(AttributeError):
        options.debug = True  # type: ignore[misc]


def test_every_option_is_documented() -> None:
    """Each option has a meaning, and the docs page lists each by name."""
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text("utf-8")
    for name, _default, meaning in option_docs():
        assert meaning
        assert f"`{name}`" in page, name
    assert len(OPTION_NAMES) == len(option_docs())
