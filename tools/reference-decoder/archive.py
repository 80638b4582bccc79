"""Archive container, format version 2: Spec/ARCHIVE.md §1-§3.

read_archive(data) parses the header, every entry and the end record of an undamaged archive
(damage and version 1 are out of scope: this is the normative path only) and returns the header
and entries with their payloads; entry_crc() computes the §3.2 checksum once the pixels are known.
Bad input raises ArchiveError.
"""
import zlib
from dataclasses import dataclass, field


class ArchiveError(Exception):
    pass


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ArchiveError(f"truncated at byte {self.pos} (need {n})")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:                        # big-endian
        return int.from_bytes(self.take(4), "big")

    def varint(self) -> int:
        """Unsigned LEB128, at most 5 bytes, value <= 2^32 - 1, minimal form."""
        v = 0
        for i in range(5):
            b = self.u8()
            v |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                if i > 0 and b == 0:
                    raise ArchiveError("varint not minimal")
                if v > 0xFFFFFFFF:
                    raise ArchiveError("varint above 2^32 - 1")
                return v
        raise ArchiveError("varint longer than 5 bytes")

    def sized(self, max_len: int) -> bytes:
        n = self.varint()
        if n > max_len:
            raise ArchiveError(f"length {n} above {max_len}")
        return self.take(n)


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}       # PNG colour type -> samples per pixel


@dataclass
class Header:
    raw: bytes                # magic through statistics: part 1 of every entry's CRC
    archive_id: int
    model_identity: bytes     # 4 bytes, or b"" when the archive needs no model
    statistics: bytes         # b"" when absent


@dataclass
class Entry:
    coder: int
    name: str
    width: int = 0
    height: int = 0
    colour_type: int = 0
    bit_depth: int = 0
    extras: int = 0
    payload: bytes = b""
    checksum: int = 0
    crc_fields: bytes = b""   # kind byte through payload, without the name suffix (§3.2 part 2)
    palette: bytes = b""
    trns: bytes = b""
    chunks: list = field(default_factory=list)

    @property
    def channels(self) -> int:
        return CHANNELS[self.colour_type]


def count_on(name: str) -> str:
    """§3 "counted on": the last run of ASCII digits plus one, same width."""
    b = name.encode()
    end = len(b)
    while end > 0 and not (0x30 <= b[end - 1] <= 0x39):
        end -= 1
    start = end
    while start > 0 and 0x30 <= b[start - 1] <= 0x39:
        start -= 1
    if start == end or all(c == 0x39 for c in b[start:end]):
        raise ArchiveError(f"name {name!r} cannot be counted on")
    digits = str(int(b[start:end]) + 1).zfill(end - start).encode()
    return (b[:start] + digits + b[end:]).decode()


def read_header(r: Reader) -> Header:
    if r.take(4) != b"DDNZ":
        raise ArchiveError("not a ddnzip archive (magic)")
    version = r.u8()
    if version != 2:
        raise ArchiveError(f"archive version {version} (this reader reads version 2)")
    flags = r.u8()
    if flags & ~3:
        raise ArchiveError("reserved header flag bits set")
    archive_id = r.u32()
    identity = r.take(4) if flags & 1 else b""
    stats = r.sized(0xFFFFFFFF) if flags & 2 else b""
    if flags & 2 and not stats:
        raise ArchiveError("empty statistics")
    return Header(r.data[:r.pos], archive_id, identity, stats)


def read_entries(r: Reader):
    """Entries up to the end record; returns (entries, declared count)."""
    entries = []
    prev_name = ""
    shape = None                                  # (width, height, colour type, depth) of the last non-stored entry
    while True:
        start = r.pos
        kind = r.u8()
        coder = kind & 7
        if coder == 7:
            count = r.varint()
            if r.pos != len(r.data):
                raise ArchiveError("bytes after the end record")
            return entries, count
        crc_fields = bytearray([kind])
        if kind & 8:
            name = count_on(prev_name)
        else:
            mark = r.pos
            lengths = r.varint()
            crc_fields += r.data[mark:r.pos]
            shared, suffix_len = lengths >> 10, lengths & 1023
            pb = prev_name.encode()
            if shared > len(pb) or shared > 1022 or not 1 <= suffix_len <= 1023 or shared + suffix_len > 1023:
                raise ArchiveError("bad name lengths")
            name = (pb[:shared] + r.take(suffix_len)).decode("utf-8")
        mark = r.pos
        e = Entry(coder=coder, name=name)
        if coder == 0:
            if kind & 0x30:
                raise ArchiveError("stored entry with shape or extras bits")
        elif kind & 0x10:
            if shape is None:
                raise ArchiveError("same shape as no entry")
            e.width, e.height, e.colour_type, e.bit_depth = shape
        else:
            e.width, e.height = r.varint(), r.varint()
            t = r.u8()
            e.colour_type, e.bit_depth = t >> 5, t & 31
            if not (1 <= e.width < 1 << 31 and 1 <= e.height < 1 << 31) or e.colour_type not in CHANNELS:
                raise ArchiveError("bad shape")
        if coder != 0:
            shape = (e.width, e.height, e.colour_type, e.bit_depth)
        if kind & 0x20:
            e.extras = r.u8()
            if e.extras == 0 or e.extras & 0xF0:
                raise ArchiveError("bad extras byte")
            if e.extras & 2:
                e.palette = r.sized(768)
            if e.extras & 4:
                e.trns = r.sized(256)
            if e.extras & 8:
                for _ in range(r.varint()):
                    ctype = r.take(4)
                    pos = r.u8()
                    e.chunks.append((ctype, pos, r.sized(0x7FFFFFFF)))
        n = r.varint() * 4 + (kind >> 6)
        e.payload = r.take(n)
        crc_fields += r.data[mark:r.pos]
        e.crc_fields = bytes(crc_fields)
        e.checksum = r.u32()
        entries.append(e)
        prev_name = name


def read_archive(data: bytes):
    r = Reader(data)
    header = read_header(r)
    entries, count = read_entries(r)
    if count != len(entries):
        raise ArchiveError(f"end record counts {count} entries, archive holds {len(entries)}")
    return header, entries


def entry_crc(header: Header, entry: Entry, pixels: bytes) -> int:
    """§3.2: header bytes, the entry's fields without the name suffix, the pixels, the name."""
    crc = zlib.crc32(header.raw)
    crc = zlib.crc32(entry.crc_fields, crc)
    crc = zlib.crc32(pixels, crc)
    return zlib.crc32(entry.name.encode(), crc)
