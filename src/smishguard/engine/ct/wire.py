"""Minimal readers for the two encodings CT uses: TLS presentation language (RFC 8446 §3) and DER.

Only what the CT structures need: big-endian integers, length-prefixed opaque vectors, and enough DER to
find the ``signature`` AlgorithmIdentifier inside a TBSCertificate.
"""

from __future__ import annotations

from .errors import MalformedEntry


class TLSReader:
    """Reads TLS-encoded fields from ``data`` front to back; every short read raises ``MalformedEntry``."""

    __slots__ = ("_data", "_end", "offset")

    def __init__(self, data: bytes, offset: int = 0, end: int | None = None) -> None:
        self._data = data
        self.offset = offset
        self._end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self._end - self.offset

    def _take(self, n: int, what: str) -> bytes:
        start = self.offset
        stop = start + n
        if stop > self._end:
            raise MalformedEntry(f"truncated {what}: need {n} bytes, have {self._end - start}")
        self.offset = stop
        return self._data[start:stop]

    def uint(self, width: int, what: str = "integer") -> int:
        return int.from_bytes(self._take(width, what), "big")

    def fixed(self, n: int, what: str = "field") -> bytes:
        return self._take(n, what)

    def opaque(self, length_width: int, what: str = "vector") -> bytes:
        n = self.uint(length_width, f"length of {what}")
        return self._take(n, what)

    def sub(self, length_width: int, what: str = "vector") -> TLSReader:
        """A reader over the next length-prefixed vector (the offset moves past it)."""
        n = self.uint(length_width, f"length of {what}")
        start = self.offset
        self._take(n, what)
        return TLSReader(self._data, start, start + n)

    def expect_end(self, what: str) -> None:
        if self.offset != self._end:
            raise MalformedEntry(f"{self._end - self.offset} unexpected trailing bytes after {what}")


def _der_header(data: bytes, offset: int) -> tuple[int, int, int]:
    """Return (tag, start of contents, end of contents) of the DER TLV at ``offset``."""
    if offset + 2 > len(data):
        raise MalformedEntry("truncated DER element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise MalformedEntry("multi-byte DER tags are not used in a TBSCertificate header")
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise MalformedEntry("unsupported DER length encoding")
        if start + count > len(data):
            raise MalformedEntry("truncated DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise MalformedEntry("DER element runs past the end of its data")
    return tag, start, end


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def der_tlv(tag: int, contents: bytes) -> bytes:
    return bytes((tag,)) + der_length(len(contents)) + contents


_EMPTY_BIT_STRING = b"\x03\x01\x00"


def wrap_tbs_certificate(tbs: bytes) -> bytes:
    """Turn a bare TBSCertificate into a DER Certificate that ``cryptography`` can load.

    The wrapper is ``SEQUENCE { tbs, signatureAlgorithm, BIT STRING {} }`` where ``signatureAlgorithm`` is
    copied from the TBS's own ``signature`` field (RFC 5280 §4.1.1.2 says the two match), so the parse
    sees a well-formed certificate whose signature is empty. Nothing may verify that signature: the result is
    only for reading the names, issuer and validity out of the TBS.
    """
    tag, start, end = _der_header(tbs, 0)
    if tag != 0x30 or end != len(tbs):
        raise MalformedEntry("TBSCertificate is not a single DER SEQUENCE")
    offset = start
    tag, _, after = _der_header(tbs, offset)
    if tag == 0xA0:  # [0] EXPLICIT version
        offset = after
        tag, _, after = _der_header(tbs, offset)
    if tag != 0x02:
        raise MalformedEntry("TBSCertificate has no serialNumber INTEGER")
    offset = after
    tag, _, after = _der_header(tbs, offset)
    if tag != 0x30:
        raise MalformedEntry("TBSCertificate has no signature AlgorithmIdentifier")
    algorithm = tbs[offset:after]
    return der_tlv(0x30, tbs + algorithm + _EMPTY_BIT_STRING)
