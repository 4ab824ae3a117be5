"""Where a signing key lives: a PKCS#12 file, a PKCS#11 token (smart card), or memory.

Every credential opens into an :class:`OpenedSigner` (pyHanko signer, the signer's
certificate and the certificates above it) inside a ``with`` block, so a token session
is opened once (one PIN entry) for a whole batch and always closed::

    with Pkcs11Credential(module, "Mairie", pin=pin).open() as opened:
        for convention in waiting:
            sign_convention(ws, SignRequest(convention, "commune"), opened)

Secrets (passphrase, PIN) are bytes or str held by the caller, never command-line text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pipeline.core.errors import SigningError


def _asn1(cert: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class OpenedSigner:
    """A usable signing key with its certificate and chain."""

    signer: Any
    """pyHanko :class:`~pyhanko.sign.signers.Signer` (``SimpleSigner``, ``PKCS11Signer``)."""
    cert: x509.Certificate
    """The signer's certificate."""
    chain: tuple[x509.Certificate, ...] = ()
    """Certificates above it that came with the key (intermediate CAs, root)."""
    source: str = ""
    """Where the key is, for messages (a file name, a token label)."""

    @property
    def common_name(self) -> str:
        names = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""

    @property
    def email(self) -> str:
        names = self.cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
        if names:
            return str(names[0].value)
        try:
            san = self.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return ""
        mails = san.value.get_values_for_type(x509.RFC822Name)
        return str(mails[0]) if mails else ""


class Credential(Protocol):
    """Anything that can open a signing key for the length of a ``with`` block."""

    def open(self) -> Any:
        """A context manager yielding an :class:`OpenedSigner`."""


@dataclass(frozen=True)
class KeyCredential:
    """A private key and certificate already in memory (e.g. a one-time certificate
    issued by the workspace CA for an inhabitant signing online)."""

    key: PrivateKeyTypes
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    source: str = "memory"

    @contextmanager
    def open(self) -> Iterator[OpenedSigner]:
        der = self.key.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        signer = signers.SimpleSigner(
            signing_cert=_asn1(self.cert), signing_key=load_private_key_from_pemder_data(
                der, passphrase=None),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [_asn1(c) for c in self.chain]),
        )
        yield OpenedSigner(signer, self.cert, self.chain, self.source)


@dataclass(frozen=True)
class Pkcs12Credential:
    """A ``.p12``/``.pfx`` file and its passphrase."""

    path: Path
    passphrase: bytes = field(repr=False)

    @contextmanager
    def open(self) -> Iterator[OpenedSigner]:
        path = Path(self.path)
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise SigningError(f"Cannot read the PKCS#12 file {path}: {exc.strerror}.") from exc
        try:
            key, cert, chain = pkcs12.load_key_and_certificates(blob, self.passphrase)
        except ValueError as exc:
            raise SigningError(
                f"Cannot open {path.name}: wrong passphrase, or not a PKCS#12 file.") from exc
        if key is None or cert is None:
            raise SigningError(f"{path.name} holds no private key with its certificate.")
        with KeyCredential(key, cert, tuple(chain), path.name).open() as opened:
            yield opened


@dataclass(frozen=True)
class Pkcs11Credential:
    """A key on a PKCS#11 token (smart card, HSM; SoftHSM2 in tests).

    ``module`` is the token's PKCS#11 library (``/usr/lib/softhsm/libsofthsm2.so``,
    ``opensc-pkcs11.so``); the key is found by ``key_label`` (default: the token's only
    certificate's label), its certificate by the same label.
    """

    module: Path
    token_label: str
    pin: str = field(repr=False)
    key_label: str | None = None

    @contextmanager
    def open(self) -> Iterator[OpenedSigner]:
        from pyhanko.sign import pkcs11 as hanko_p11  # python-pkcs11 loaded only when used

        try:
            session = hanko_p11.open_pkcs11_session(
                str(self.module), token_criteria=hanko_p11.TokenCriteria(  # type: ignore[attr-defined]
                    label=self.token_label),
                user_pin=self.pin)
        except Exception as exc:
            raise SigningError(
                f"Cannot open the token {self.token_label!r} with {self.module}: "
                f"{type(exc).__name__} {exc} (wrong PIN, token absent, or wrong module?)."
            ) from exc
        try:
            label = self.key_label or _only_cert_label(session)
            try:
                signer = hanko_p11.PKCS11Signer(session, cert_label=label, key_label=label,
                                                other_certs_to_pull=None,
                                                use_raw_mechanism=True)
                cert_asn1 = signer.signing_cert
            except Exception as exc:
                raise SigningError(
                    f"The token {self.token_label!r} holds no key and certificate "
                    f"labelled {label!r}: {exc}") from exc
            cert = x509.load_der_x509_certificate(cert_asn1.dump())
            chain = tuple(
                x509.load_der_x509_certificate(c.dump()) for c in signer.cert_registry
                if c.dump() != cert_asn1.dump()
            )
            yield OpenedSigner(signer, cert, chain, f"token {self.token_label}")
        finally:
            session.close()


def _only_cert_label(session: Any) -> str:
    from pkcs11 import Attribute, ObjectClass

    labels = {str(obj[Attribute.LABEL])
              for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})}
    if len(labels) != 1:
        raise SigningError(
            f"The token holds {len(labels)} certificates ({', '.join(sorted(labels))}); "
            "choose one with --key-label.")
    return labels.pop()


__all__ = ["Credential", "KeyCredential", "OpenedSigner", "Pkcs11Credential",
           "Pkcs12Credential"]
