"""Mutual TLS per source, on both transports: the gateway verifies the source with the source's CA bundle
and presents its client certificate; without the certificate, or against a server its CA did not sign,
nothing is read. The CA, the server's and the client's certificates are made here, at test time, in a
temporary folder (no key is ever committed); the server is a TLS server on loopback that requires a
client certificate and says which one it saw."""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sources.base import SourceClient, SourceConfig, build_client
from sources.credentials import TlsFiles
from sources.errors import SourceUnavailable
from sources.transport import HttpTransport, build_transport


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


class Authority:
    """A throw-away CA writing PEM files into ``folder``."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = folder / f"{name}-ca.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name: str, usage: x509.ObjectIdentifier, *, ip: str | None = None) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if ip is not None:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address(ip))]), False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = Issued(self.folder / f"{common_name}.pem", self.folder / f"{common_name}-key.pem")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return issued


@dataclass
class Pki:
    ca: Authority
    server: Issued
    client: Issued
    other_ca: Authority


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca = Authority(tmp_path, "national-services")
    server = ca.issue("cpr.loopback", ExtendedKeyUsageOID.SERVER_AUTH, ip="127.0.0.1")
    client = ca.issue("patientoverblik", ExtendedKeyUsageOID.CLIENT_AUTH)
    return Pki(ca, server, client, Authority(tmp_path, "someone-else"))


@pytest.fixture
async def server(pki: Pki) -> AsyncIterator[str]:
    """A TLS server on loopback requiring a client certificate from the CA; answers the client's CN as JSON."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca.bundle))
    context.load_cert_chain(pki.server.cert, pki.server.key)
    context.verify_mode = ssl.CERT_REQUIRED

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            subject = dict(item[0] for item in writer.get_extra_info("peercert")["subject"])
            body = json.dumps({"client": subject["commonName"]}).encode()
            head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            writer.write(head.encode() + b"connection: close\r\n\r\n" + body)
            await writer.drain()
        except (ssl.SSLError, ConnectionError, asyncio.IncompleteReadError):
            pass  # a client the server refused
        finally:
            writer.close()

    listening = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    yield f"https://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    listening.close()


async def call(base_url: str, kind: HttpTransport, tls: TlsFiles) -> object:
    config = SourceConfig("cpr", base_url, timeout_s=5.0, retries=0, tls=tls)
    client = SourceClient(config, build_client(config, build_transport(kind, tls)))
    try:
        return await client.get_json("/fhir/Patient")
    finally:
        await client.aclose()


@pytest.mark.parametrize("kind", list(HttpTransport))
async def test_the_source_sees_the_gateways_client_certificate(pki: Pki, server: str, kind: HttpTransport) -> None:
    tls = TlsFiles(str(pki.ca.bundle), str(pki.client.cert), str(pki.client.key))

    assert await call(server, kind, tls) == {"client": "patientoverblik"}


@pytest.mark.parametrize("kind", list(HttpTransport))
async def test_without_a_client_certificate_the_source_refuses(pki: Pki, server: str, kind: HttpTransport) -> None:
    with pytest.raises(SourceUnavailable):
        await call(server, kind, TlsFiles(str(pki.ca.bundle)))


@pytest.mark.parametrize("kind", list(HttpTransport))
async def test_a_server_the_bundles_ca_did_not_sign_is_refused(pki: Pki, server: str, kind: HttpTransport) -> None:
    tls = TlsFiles(str(pki.other_ca.bundle), str(pki.client.cert), str(pki.client.key))

    with pytest.raises(SourceUnavailable):
        await call(server, kind, tls)
