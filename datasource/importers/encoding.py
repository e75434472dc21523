"""The text of a CSV file: its encoding found from the bytes, or one line saying why not.

Order of evidence: the mapping's ``encoding`` (the user knows best); a byte-order mark
(UTF-8, UTF-16: Excel's "Unicode text" has one); then UTF-8, which is strict enough that
text in any other encoding almost never passes for it; then charset-normalizer's best
guess among the encodings ledgers come in (GB18030, which covers GBK and GB2312, Big5,
UTF-16 without a mark, Windows-1252). A file that is none of them (a picture, an archive,
random bytes) is "not a CSV or Excel file", not an encoding problem.

charset-normalizer is used rather than trial decoding: GB18030 decodes most Latin-1
bytes into plausible-looking CJK, and a short GBK file decodes as Korean too; the
library scores the decoded text (mess and coherence) and picks the reading that is
language rather than noise. Limiting it to the encodings above keeps it from choosing
CP949 for a two-line GBK file.
"""

from __future__ import annotations

import codecs

from datasource.importers.errors import ImportSetupError

CANDIDATES = ["utf_8", "gb18030", "big5", "utf_16", "cp1252"]
# The detector names the narrow Chinese encodings; their superset reads them all.
WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "hz": "gb18030"}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
# Files that are something else (checked before any decoding).
MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!",
         b"\x7fELF", b"MZ", b"BM", b"II*\x00", b"MM\x00*", b"RIFF", b"OggS", b"ID3",
         b"\x00\x00\x01\x00", b"SQLite format 3")


class NotText(ImportSetupError):
    """The file is not text at all."""


def not_a_table(name: str) -> NotText:
    return NotText(f"{name}: not a CSV or Excel file (save it from Excel as .xlsx or CSV)")


def decode_text(raw: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """``(text, encoding used)``; ImportSetupError (one line) when it cannot be read."""
    if encoding is not None:
        codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        try:
            codecs.lookup(codec)
        except LookupError:
            raise ImportSetupError(f"unknown encoding {encoding!r} in the mapping") from None
        return _decode(raw, name, codec, encoding, given=True), encoding
    for bom, codec in BOMS:
        if raw.startswith(bom):
            return _decode(raw, name, codec, codec.replace("-sig", ""), given=False), codec
    if raw.startswith(MAGIC):
        raise not_a_table(name)
    sample = raw[:65_536]
    if b"\x00" in sample:  # UTF-16 without a mark, or not text at all
        return _utf16(raw, name)
    controls = sum(sample.count(bytes([b])) for b in range(32) if chr(b) not in "\t\r\n\f\v")
    if controls * 100 > len(sample):
        raise not_a_table(name)
    try:
        return _checked(raw.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # imported here: only non-UTF-8 files need it

    best = from_bytes(raw, cp_isolation=CANDIDATES).best()
    if best is None:
        raise not_a_table(name)
    found = WIDER.get(best.encoding, best.encoding)
    return _decode(raw, name, found, found, given=False), found


def _utf16(raw: bytes, name: str) -> tuple[str, str]:
    """Bytes with NULs are UTF-16 text if they read as lines of ASCII and CJK (almost any
    bytes decode as UTF-16: the decoded text has to look like a table), else not text."""
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = _checked(raw.decode(codec), name)
        except (UnicodeDecodeError, ImportSetupError):
            continue
        sample = text[:32_768]
        plain = sum(1 for ch in sample if ch < "\x7f" or "\u3000" <= ch <= "\u9fff" or ch >= "\uff00")
        if "\n" in sample and plain * 100 >= 95 * len(sample):
            return text, codec
    raise not_a_table(name)


def _decode(raw: bytes, name: str, codec: str, shown: str, given: bool) -> str:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        hint = ("check encoding in the mapping, or leave it out: the encoding is found from the file"
                if given else 'set encoding in the mapping (e.g. encoding = "gb18030")')
        raise ImportSetupError(
            f"{name}: not valid {shown} text (byte 0x{raw[exc.start]:02x} on line {line}); {hint}"
        ) from None
    return _checked(text, name)


def _checked(text: str, name: str) -> str:
    """The text, unless it is full of control characters (a binary file that happened to
    decode): NUL anywhere, or more than one in a hundred characters."""
    sample = text[:65_536]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\f\v")
    if "\x00" in sample or controls * 100 > len(sample):
        raise not_a_table(name)
    return text
