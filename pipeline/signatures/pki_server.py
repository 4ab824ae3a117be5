"""Serve a :class:`~pipeline.signatures.local_pki.LocalPki` over HTTP on 127.0.0.1:
an RFC 3161 timestamp authority (``POST /tsa``), an OCSP responder (``POST /ocsp``) and
CRLs (``GET /crl/root.crl``, ``GET /crl/intermediate.crl``).

Answers are built fresh for each request with the real time, so a revocation made after
the server started is seen at once. Only for demonstrations and tests.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from pipeline.signatures.local_pki import Issued, LocalPki

log = logging.getLogger(__name__)
_MAX_BODY = 64 * 1024


def _asn1_cert(cert: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(issued: Issued) -> Any:
    return asn1_keys.PrivateKeyInfo.load(issued.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def crl_for(pki: LocalPki, ca: str) -> bytes:
    """A fresh DER CRL of ``ca`` (``root`` or ``intermediate``), valid one day."""
    issuer = pki.root if ca == "root" else pki.intermediate
    now = datetime.now(UTC)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
               .last_update(now - timedelta(minutes=5)).next_update(now + timedelta(days=1))
               .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer.key.public_key()), critical=False))
    if ca != "root":
        for serial, when in pki.revoked.items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(when).build())
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_for(pki: LocalPki, body: bytes) -> bytes:
    """The DER OCSP response to the DER request ``body``."""
    try:
        request = ocsp.load_der_ocsp_request(body)
    except ValueError:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.MALFORMED_REQUEST).public_bytes(serialization.Encoding.DER)
    serial = request.serial_number
    now = datetime.now(UTC)
    revoked_at = pki.revoked.get(serial)
    status = ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD
    # The responder answers for certificates of the intermediate CA; the subject is
    # rebuilt from the request's serial (pyHanko only needs the issuer hashes to match).
    dummy = x509.CertificateBuilder().subject_name(pki.tsa.cert.subject).issuer_name(
        pki.intermediate.cert.subject).public_key(pki.tsa.key.public_key()).serial_number(
        serial).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(
        pki.intermediate.key, hashes.SHA256())
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=dummy, issuer=pki.intermediate.cert, algorithm=request.hash_algorithm,
        cert_status=status, this_update=now - timedelta(minutes=1),
        next_update=now + timedelta(hours=12), revocation_time=revoked_at,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, pki.ocsp.cert).certificates(
        [pki.ocsp.cert])
    for ext in request.extensions:
        if isinstance(ext.value, x509.OCSPNonce):
            builder = builder.add_extension(ext.value, critical=False)
    response = builder.sign(pki.ocsp.key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def tsa_for(pki: LocalPki, body: bytes) -> bytes:
    """The DER RFC 3161 response to the DER timestamp request ``body``."""
    stamper = DummyTimeStamper(
        tsa_cert=_asn1_cert(pki.tsa.cert), tsa_key=_asn1_key(pki.tsa),
        certs_to_embed=[_asn1_cert(pki.intermediate.cert)],  # type: ignore[arg-type]
    )
    request = tsp.TimeStampReq.load(body)
    return bytes(stamper.request_tsa_response(request).dump())


def _handler(pki: LocalPki) -> type[BaseHTTPRequestHandler]:
    posts: dict[str, tuple[Callable[[LocalPki, bytes], bytes], str]] = {
        "/tsa": (tsa_for, "application/timestamp-reply"),
        "/ocsp": (ocsp_for, "application/ocsp-response"),
    }

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            log.debug("pki server: " + format, *args)

        def _reply(self, status: int, data: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            name = self.path.removeprefix("/crl/").removesuffix(".crl")
            if self.path.startswith("/crl/") and name in ("root", "intermediate"):
                self._reply(200, crl_for(pki, name), "application/pkix-crl")
            else:
                self._reply(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            route = posts.get(self.path)
            size = int(self.headers.get("Content-Length") or 0)
            if route is None or not 0 < size <= _MAX_BODY:
                self._reply(404 if route is None else 400, b"no", "text/plain")
                return
            body = self.rfile.read(size)
            try:
                self._reply(200, route[0](pki, body), route[1])
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("pki server: bad request on %s: %s", self.path, exc)
                self._reply(400, b"bad request", "text/plain")

    return Handler


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PkiServer:
    """A running server for ``pki``; stop it with :meth:`stop` (or use ``with``)."""

    pki: LocalPki
    port: int
    _server: ThreadingHTTPServer | None = None

    def start(self) -> PkiServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.pki))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the demo's background process)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.pki))
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PkiServer:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_local_pki(pki: LocalPki | None = None) -> PkiServer:
    """A new PKI (or ``pki``) served on a free loopback port, already running."""
    if pki is None:
        port = free_port()
        pki = LocalPki.create(f"http://127.0.0.1:{port}")
    else:
        port = int(pki.base_url.rsplit(":", 1)[1].split("/")[0])
    return PkiServer(pki, port).start()


__all__ = ["PkiServer", "crl_for", "free_port", "ocsp_for", "start_local_pki", "tsa_for"]
