"""A TLS handshake with the DSN's host, for ``tripwire check`` to describe the connection.

The SDK's HTTP client does not expose its sockets, so ``check`` makes one
extra connection with the same CA bundle and client certificate, reads what
was negotiated, and closes it. Costs one round trip more than the check itself.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class TlsInfo:
    """What a handshake negotiated, or ``error`` when it failed."""

    ca_bundle: str
    protocol: Optional[str] = None
    cipher: Optional[str] = None
    bits: Optional[int] = None
    subject: Optional[str] = None
    names: tuple[str, ...] = ()
    issuer: Optional[str] = None
    not_after: Optional[str] = None
    seconds: float = 0.0
    error: Optional[str] = None


def _name(parts: object) -> Optional[str]:
    # getpeercert() gives ((("commonName", "x"),), (("organizationName", "y"),), ...).
    if not isinstance(parts, tuple):
        return None
    wanted = {"commonName": "CN", "organizationName": "O"}
    found = [f"{wanted[key]}={value}" for rdn in parts for key, value in rdn if key in wanted]
    return ", ".join(found) or None


def _alt_names(entries: object) -> tuple[str, ...]:
    # (("DNS", "example.com"), ("IP Address", "127.0.0.1"), ...)
    if not isinstance(entries, tuple):
        return ()
    return tuple(str(entry[1]) for entry in entries if isinstance(entry, tuple) and len(entry) == 2)


def probe_tls(
    host: str,
    port: int,
    *,
    ca_certs: Optional[str],
    cert_file: Optional[str],
    key_file: Optional[str],
    timeout: float,
) -> TlsInfo:
    """Handshake with ``host:port`` and verify its certificate as the SDK would; never raises."""
    import certifi

    bundle = ca_certs or certifi.where()
    start = time.monotonic()
    try:
        context = ssl.create_default_context(cafile=bundle)
        if cert_file:
            context.load_cert_chain(cert_file, key_file)
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            cipher = tls.cipher()
            cert = tls.getpeercert() or {}
            return TlsInfo(
                ca_bundle=bundle,
                protocol=tls.version(),
                cipher=cipher[0] if cipher else None,
                bits=cipher[2] if cipher else None,
                subject=_name(cert.get("subject")),
                names=_alt_names(cert.get("subjectAltName")),
                issuer=_name(cert.get("issuer")),
                not_after=str(cert["notAfter"]) if "notAfter" in cert else None,
                seconds=time.monotonic() - start,
            )
    except (OSError, ValueError) as exc:
        # ssl.SSLError (a bad certificate, a failed handshake) is an OSError.
        return TlsInfo(
            ca_bundle=bundle,
            seconds=time.monotonic() - start,
            error=f"{type(exc).__name__}: {exc}",
        )
