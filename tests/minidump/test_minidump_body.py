"""build_multipart_upload: the body a server parses, its compression, and its limits."""

from __future__ import annotations

import gzip
import json
import os
import tracemalloc
from pathlib import Path

import pytest

from tripwire._minidump import open_dump
from tripwire._multipart import SPOOL_BYTES, build_multipart_upload
from tripwire.errors import MinidumpError

EVENT: dict[str, object] = {
    "event_id": "0123456789abcdef0123456789abcdef",
    "level": "fatal",
    "platform": "native",
    "release": "my-project-name@2.3.12",
    "environment": "production",
    "tags": {"mytag": "value", "Grüße": "❤"},
    "user": {"id": "42", "email": "a@example.com"},
    "contexts": {"os": {"name": "Linux", "version": "6.1"}},
    "breadcrumbs": {"values": [{"message": "started", "level": "info"}]},
    "extra": {"attempt": 3},
    "sdk": {"name": "tripwire", "version": "0.1.0", "integrations": ["minidump"]},
}

LINUX, MACOS = 0x8201, 0x8101


def test_json_form_round_trips(fixture_dump: Path, parse, encode_event, read_platform) -> None:
    """Fields, the sentry JSON, filename, content type and dump bytes all reach the server intact."""
    body = build_multipart_upload(
        open_dump(fixture_dump),
        EVENT,
        encode_event=encode_event,
        fields={"custom_field": "value", "ünïcode": "çà"},
    )
    assert body.content_encoding == "gzip"
    assert body.content_type.startswith("multipart/form-data; boundary=")
    upload = parse(body)
    assert upload.form["custom_field"] == "value"
    assert upload.form["ünïcode"] == "çà"
    assert json.loads(upload.form["sentry"]) == EVENT
    part = upload.files["upload_file_minidump"]
    assert part.filename == fixture_dump.name
    assert part.mimetype == "application/octet-stream"
    data = upload.dump_bytes()
    assert data == fixture_dump.read_bytes()
    platform, threads = read_platform(data)
    assert platform == (LINUX if "linux" in fixture_dump.name else MACOS)
    assert threads >= 1


def test_form_fields_come_before_the_dump(fixture_dump: Path, encode_event) -> None:
    """Plain fields, then the event, then the file: a Relay-style reader sees fields first."""
    body = build_multipart_upload(
        open_dump(fixture_dump), EVENT, encode_event=encode_event, fields={"first": "1"}
    )
    raw = gzip.decompress(body.data)  # type: ignore[arg-type]
    assert (
        raw.index(b'name="first"')
        < raw.index(b'name="sentry"')
        < raw.index(b'name="upload_file_minidump"')
    )
    assert raw.endswith(b"--\r\n")


def test_uncompressed_body(fixture_dump: Path, parse, encode_event) -> None:
    """compression_level=0 sends the multipart body as it is, with no Content-Encoding."""
    body = build_multipart_upload(
        open_dump(fixture_dump), EVENT, encode_event=encode_event, compression_level=0
    )
    assert body.content_encoding is None
    assert body_starts_with_boundary(body.data)  # type: ignore[arg-type]
    assert parse(body).dump_bytes() == fixture_dump.read_bytes()


def body_starts_with_boundary(data: bytes) -> bool:
    return data.startswith(b"--tripwire-")


def test_gzip_is_a_real_gzip_stream(fixture_dump: Path, encode_event) -> None:
    """The compressed body is one gzip member that the standard library decodes."""
    body = build_multipart_upload(open_dump(fixture_dump), EVENT, encode_event=encode_event)
    assert isinstance(body.data, bytes)
    assert body.data[:2] == b"\x1f\x8b"
    assert body.length == len(body.data)
    assert fixture_dump.read_bytes() in gzip.decompress(body.data)


def test_bracket_form_is_parsed_back_to_the_event(fixture_dump: Path, parse, encode_event) -> None:
    """Bracket style: string subtrees become sentry[a][b] fields, the rest stays JSON, nothing is lost."""
    body = build_multipart_upload(
        open_dump(fixture_dump), EVENT, encode_event=encode_event, bracket_fields=True
    )
    form = parse(body).form
    assert form["sentry[release]"] == "my-project-name@2.3.12"
    assert form["sentry[tags][mytag]"] == "value"
    assert form["sentry[tags][Grüße]"] == "❤"
    assert form["sentry[user][id]"] == "42"
    assert form["sentry[contexts][os][name]"] == "Linux"
    # Lists and numbers cannot be brackets without changing type: they stay JSON.
    rest = json.loads(form["sentry"])
    assert set(rest) == {"breadcrumbs", "extra", "sdk"}
    assert relay_merge(form) == EVENT


def relay_merge(form) -> dict[str, object]:
    """Rebuild the event like Relay's merge_formdata: bracket paths, then the JSON field."""
    event: dict[str, object] = {}
    for key, value in form.items(multi=True):
        if key.startswith("sentry["):
            node = event
            parts = key[len("sentry[") : -1].split("][")
            for part in parts[:-1]:
                node = node.setdefault(part, {})  # type: ignore[assignment]
            node.setdefault(parts[-1], value)
    for key, value in json.loads(form.get("sentry", "{}")).items():
        event.setdefault(key, value)
    return event


def test_bracket_form_without_leftovers_has_no_json_field(
    fixture_dump: Path, parse, encode_event
) -> None:
    """An event of strings only is sent entirely as bracket fields."""
    event = {"release": "1.0", "tags": {"a": "b"}}
    body = build_multipart_upload(
        open_dump(fixture_dump), event, encode_event=encode_event, bracket_fields=True
    )
    form = parse(body).form
    assert "sentry" not in form
    assert dict(form) == {"sentry[release]": "1.0", "sentry[tags][a]": "b"}


def test_filename_choices(fixture_dump: Path, parse, encode_event) -> None:
    """The filename is the given one, else the path's basename, else minidump.dmp; quotes are defused."""
    data = fixture_dump.read_bytes()

    def sent_name(dump: object, filename: str | None) -> str:
        body = build_multipart_upload(
            open_dump(dump),
            {},
            encode_event=encode_event,
            filename=filename,  # type: ignore[arg-type]
        )
        return parse(body).files["upload_file_minidump"].filename  # type: ignore[return-value]

    assert sent_name(fixture_dump, None) == fixture_dump.name
    assert sent_name(fixture_dump, "app-crash.dmp") == "app-crash.dmp"
    assert sent_name(data, None) == "minidump.dmp"
    assert sent_name(data, 'evil"\r\nX-Injected: 1.dmp') == "evil___X-Injected: 1.dmp"


@pytest.mark.parametrize("name", ["sentry", "sentry[release]", "sentry__1", "upload_file_minidump"])
def test_reserved_field_names_are_refused(fixture_dump: Path, encode_event, name: str) -> None:
    """A plain field cannot pose as the event or the dump."""
    with pytest.raises(MinidumpError, match="reserved"):
        build_multipart_upload(
            open_dump(fixture_dump), {}, encode_event=encode_event, fields={name: "x"}
        )


def test_field_name_that_breaks_headers_is_refused(fixture_dump: Path, encode_event) -> None:
    """A field name with a quote or newline is refused rather than sent mangled."""
    with pytest.raises(MinidumpError, match="cannot be sent"):
        build_multipart_upload(
            open_dump(fixture_dump), {}, encode_event=encode_event, fields={'a"b': "x"}
        )


def test_non_string_field_values_are_stringified(fixture_dump: Path, parse, encode_event) -> None:
    """A number passed as a field value is sent as its text."""
    body = build_multipart_upload(
        open_dump(fixture_dump), {}, encode_event=encode_event, fields={"count": 3}
    )
    assert parse(body).form["count"] == "3"


def test_event_over_the_limit_is_refused(fixture_dump: Path, encode_event) -> None:
    """An event JSON over the limit (1 MB by default) is refused with its size."""
    with pytest.raises(MinidumpError, match="of JSON; the limit is") as info:
        build_multipart_upload(
            open_dump(fixture_dump),
            {"extra": {"big": "x" * 5000}},
            encode_event=encode_event,
            max_event_bytes=4096,
        )
    assert str(fixture_dump) in str(info.value)


def test_body_over_the_limit_is_refused_before_any_work(fixture_dump: Path, encode_event) -> None:
    """The exact body length is known up front and checked against the decompressed limit."""
    size = fixture_dump.stat().st_size
    with pytest.raises(MinidumpError, match="before compression; the limit is"):
        build_multipart_upload(
            open_dump(fixture_dump), {}, encode_event=encode_event, max_body_bytes=size
        )


def test_body_length_precheck_is_exact(fixture_dump: Path, encode_event) -> None:
    """A limit equal to the body's real length is accepted; one byte less is not."""
    body = build_multipart_upload(
        open_dump(fixture_dump), EVENT, encode_event=encode_event, compression_level=0
    )
    build_multipart_upload(
        open_dump(fixture_dump), EVENT, encode_event=encode_event, max_body_bytes=body.length
    )
    with pytest.raises(MinidumpError):
        build_multipart_upload(
            open_dump(fixture_dump),
            EVENT,
            encode_event=encode_event,
            max_body_bytes=body.length - 1,
        )


def test_compressed_request_over_the_limit_is_refused(make_dump, encode_event) -> None:
    """A dump that does not compress below the compressed-request limit is refused."""
    path = make_dump(content=os.urandom(300_000))
    with pytest.raises(MinidumpError, match="compresses to more than") as info:
        build_multipart_upload(
            open_dump(path), {}, encode_event=encode_event, max_compressed_bytes=100_000
        )
    assert str(path) in str(info.value)


def test_compressed_limit_does_not_apply_uncompressed(make_dump, encode_event) -> None:
    """Without compression only the body limit applies."""
    path = make_dump(content=os.urandom(300_000))
    body = build_multipart_upload(
        open_dump(path),
        {},
        encode_event=encode_event,
        compression_level=0,
        max_compressed_bytes=100_000,
    )
    assert body.length > 300_000
    body.cleanup()


def test_small_body_is_bytes_large_body_is_a_temp_file(make_dump, encode_event, parse) -> None:
    """Bodies up to the spool size are bytes; larger ones are a rewound file closed by cleanup."""
    path = make_dump(content=os.urandom(SPOOL_BYTES + 1000))
    body = build_multipart_upload(open_dump(path), {}, encode_event=encode_event)
    assert not isinstance(body.data, bytes)
    assert body.data.tell() == 0
    assert parse(body).dump_bytes() == path.read_bytes()
    body.cleanup()
    assert body.data.closed


def test_boundary_found_in_the_dump_is_replaced(make_dump, encode_event, parse) -> None:
    """When the dump holds the boundary, the body is rebuilt with a fresh one."""
    path = make_dump(content=b"junk--tripwire-COLLIDE\r\nmore")
    boundaries = iter(["tripwire-COLLIDE", "tripwire-fresh"])
    body = build_multipart_upload(
        open_dump(path), {}, encode_event=encode_event, make_boundary=lambda: next(boundaries)
    )
    assert body.content_type.endswith("boundary=tripwire-fresh")
    assert parse(body).dump_bytes() == path.read_bytes()


def test_boundary_split_across_chunks_is_found(make_dump, encode_event) -> None:
    """A boundary straddling two read chunks is still detected."""
    marker = b"tripwire-" + b"S" * 32
    offset = 256 * 1024 - 10  # the default chunk size is 256 KiB
    path = make_dump(content=b"\0" * (offset - 4) + marker + b"\0" * 100)
    with pytest.raises(MinidumpError, match="boundary"):
        build_multipart_upload(
            open_dump(path), {}, encode_event=encode_event, make_boundary=marker.decode
        )


def test_boundary_in_the_event_is_found(fixture_dump: Path, encode_event) -> None:
    """The event's text is checked for the boundary as well as the dump."""
    with pytest.raises(MinidumpError, match="boundary"):
        build_multipart_upload(
            open_dump(fixture_dump),
            {"message": "tripwire-X"},
            encode_event=encode_event,
            make_boundary=lambda: "tripwire-X",
        )


def test_large_dump_is_streamed_not_held_in_memory(make_dump, encode_event) -> None:
    """A 30 MB dump is compressed with a Python-heap peak far below its size."""
    path = make_dump("big.dmp", content=os.urandom(1 << 20), size=30 * 1024 * 1024)
    source = open_dump(path)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    try:
        body = build_multipart_upload(source, {"release": "1"}, encode_event=encode_event)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        if not was_tracing:
            tracemalloc.stop()
    try:
        assert peak < 8 * 1024 * 1024
        assert body.length < 2 * 1024 * 1024
        assert body.content_encoding == "gzip"
    finally:
        body.cleanup()
