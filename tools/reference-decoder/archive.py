"""Archive container, format versions 2 and 3: Spec/ARCHIVE.md §1-§3.6.

read_archive(data) parses the header, then (version 2) every entry and the end record, or
(version 3) every solid block and the end record, of an undamaged archive (damage and version 1
are out of scope: this is the normative path only). It returns the header, the entries with their
own payloads, and the blocks (version 3; [] for version 2). entry_crc() computes the §3.2 checksum
of a version-2 entry and block_crc() the §3.5 checksum of a version-3 block once the pixels are
known. Bad input raises ArchiveError.
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
    raw: bytes                # magic through statistics: part 1 of every entry's (block's) CRC
    version: int              # 2 (entries, §3) or 3 (solid blocks, §3.4)
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
    block: int = -1           # version 3: the index of the block holding the entry

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
    if version not in (2, 3):
        raise ArchiveError(f"archive version {version} (this reader reads versions 2 and 3)")
    flags = r.u8()
    if flags & ~3:
        raise ArchiveError("reserved header flag bits set")
    archive_id = r.u32()
    identity = r.take(4) if flags & 1 else b""
    stats = r.sized(0xFFFFFFFF) if flags & 2 else b""
    if flags & 2 and not stats:
        raise ArchiveError("empty statistics")
    return Header(r.data[:r.pos], version, archive_id, identity, stats)


def read_name(r: Reader, kind: int, prev_name: str):
    """§3 "name lengths" and "name suffix" (absent when kind bit 3, "counted on", is set).
    Returns (name, the name-lengths varint's bytes)."""
    if kind & 8:
        return count_on(prev_name), b""
    mark = r.pos
    lengths = r.varint()
    lengths_bytes = r.data[mark:r.pos]
    shared, suffix_len = lengths >> 10, lengths & 1023
    pb = prev_name.encode()
    if shared > len(pb) or shared > 1022 or not 1 <= suffix_len <= 1023 or shared + suffix_len > 1023:
        raise ArchiveError("bad name lengths")
    try:
        return (pb[:shared] + r.take(suffix_len)).decode("utf-8"), lengths_bytes
    except UnicodeDecodeError:
        raise ArchiveError("name not valid UTF-8")


def read_shape_and_extras(r: Reader, kind: int, e: Entry, shape):
    """§3 "width" through "chunks", as the kind byte announces them: bit 4 repeats `shape` (the
    previous non-stored entry's), bit 5 announces the extras. Returns the shape after the entry."""
    if e.coder == 0:
        if kind & 0x30:
            raise ArchiveError("stored entry with shape or extras bits")
        return shape
    if kind & 0x10:
        if shape is None:
            raise ArchiveError("same shape as no entry")
        e.width, e.height, e.colour_type, e.bit_depth = shape
    else:
        e.width, e.height = r.varint(), r.varint()
        t = r.u8()
        e.colour_type, e.bit_depth = t >> 5, t & 31
        if not (1 <= e.width < 1 << 31 and 1 <= e.height < 1 << 31) or e.colour_type not in CHANNELS:
            raise ArchiveError("bad shape")
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
    return (e.width, e.height, e.colour_type, e.bit_depth)


def read_entries(r: Reader):
    """Version 2 (§3, §3.3): entries up to the end record; returns (entries, declared count)."""
    entries = []
    prev_name = ""
    shape = None                                  # (width, height, colour type, depth) of the last non-stored entry
    while True:
        kind = r.u8()
        coder = kind & 7
        if coder == 7:
            count = r.varint()
            if r.pos != len(r.data):
                raise ArchiveError("bytes after the end record")
            return entries, count
        name, lengths_bytes = read_name(r, kind, prev_name)
        crc_fields = bytearray([kind]) + lengths_bytes     # §3.2 part 2 leaves the name suffix out
        mark = r.pos
        e = Entry(coder=coder, name=name)
        shape = read_shape_and_extras(r, kind, e, shape)
        n = r.varint() * 4 + (kind >> 6)          # payload length div 4, its last two bits in the kind byte
        e.payload = r.take(n)
        crc_fields += r.data[mark:r.pos]
        e.crc_fields = bytes(crc_fields)
        e.checksum = r.u32()
        entries.append(e)
        prev_name = name


BARE_KIND = 5 | 8 | 16        # §3.4: coder 5, name counted on, same shape, no extras: may start a run


@dataclass
class Block:
    """A version-3 solid block (§3.4)."""
    entries: list             # its Entry objects, in order (coder-5 entries have no own payload)
    weight: int               # the posterior weight in eighths (0 when the message is empty)
    message: bytes            # the shared rANS message of its coder-5 entries (Spec/CODEC.md §9)
    raw: bytes                # its bytes from the magic through the message: §3.5 part 2
    checksum: int = 0


def read_block(r: Reader, index: int) -> Block:
    """§3.4: "DDNB", entry count, entry fields, message length, posterior weight, payloads,
    message, checksum. Names and shapes are resolved from the block's start (the first entry's
    previous name is empty, and it has no previous shape)."""
    start = r.pos
    if r.take(4) != b"DDNB":
        raise ArchiveError(f"no block magic at byte {start}")
    n = r.varint()
    if not 1 <= n <= 4096:
        raise ArchiveError(f"block of {n} entries")
    entries = []
    lengths = []                                  # own payload lengths (None for coder 5)
    prev_name, shape = "", None
    run_kind, run_left = 0, 0
    while len(entries) < n:
        if run_left:                              # an entry of a run: this kind byte, no fields at all
            kind, run_left = run_kind, run_left - 1
        else:
            kind = r.u8()
            if kind & 0x80:
                raise ArchiveError("kind byte bit 7 set")
            if kind & 7 == 7:
                raise ArchiveError("coder 7 inside a block")
            if kind & 0x40:                       # a run follows: r more entries of this kind
                run_left = r.varint()
                kind &= 0x3F
                if kind != BARE_KIND:
                    raise ArchiveError("a run of entries that are not bare coder-5 entries")
                if not 1 <= run_left <= n - len(entries) - 1:
                    raise ArchiveError("a run past the block's end")
                run_kind = kind
        e = Entry(coder=kind & 7, name="", block=index)
        e.name, _ = read_name(r, kind, prev_name)
        shape = read_shape_and_extras(r, kind, e, shape)
        lengths.append(None if e.coder == 5 else r.varint())
        entries.append(e)
        prev_name = e.name
    m = r.varint()
    has5 = any(e.coder == 5 for e in entries)
    if (m > 0) != has5:
        raise ArchiveError("message length does not match the block's coder-5 entries")
    weight = 0
    if m > 0:
        weight = r.u8()
        if weight == 0:
            raise ArchiveError("posterior weight 0")
    for e, length in zip(entries, lengths):       # the own payloads, in entry order
        if length is not None:
            e.payload = r.take(length)
    message = r.take(m)
    raw = r.data[start:r.pos]
    return Block(entries, weight, message, raw, r.u32())


def read_blocks(r: Reader):
    """Version 3 (§3.4, §3.6): blocks up to the end record "DDNE"; returns (blocks, declared count)."""
    blocks = []
    while True:
        if r.data[r.pos:r.pos + 4] == b"DDNE":
            r.take(4)
            count = r.varint()
            if r.pos != len(r.data):
                raise ArchiveError("bytes after the end record")
            return blocks, count
        blocks.append(read_block(r, len(blocks)))


def read_archive(data: bytes):
    """Returns (header, entries, blocks); blocks is [] for version 2."""
    r = Reader(data)
    header = read_header(r)
    if header.version == 2:
        entries, count = read_entries(r)
        blocks = []
    else:
        blocks, count = read_blocks(r)
        entries = [e for b in blocks for e in b.entries]
    if count != len(entries):
        raise ArchiveError(f"end record counts {count} entries, archive holds {len(entries)}")
    return header, entries, blocks


def entry_crc(header: Header, entry: Entry, pixels: bytes) -> int:
    """§3.2: header bytes, the entry's fields without the name suffix, the pixels, the name."""
    crc = zlib.crc32(header.raw)
    crc = zlib.crc32(entry.crc_fields, crc)
    crc = zlib.crc32(pixels, crc)
    return zlib.crc32(entry.name.encode(), crc)


def block_crc(header: Header, block: Block, pixels: list) -> int:
    """§3.5: header bytes, the block's bytes from its magic through its message, the decoded
    pixels of each non-stored entry, every entry's full name; pixels[i] is entry i's bytes."""
    crc = zlib.crc32(header.raw)
    crc = zlib.crc32(block.raw, crc)
    for e, p in zip(block.entries, pixels):
        if e.coder != 0:
            crc = zlib.crc32(p, crc)
    for e in block.entries:
        crc = zlib.crc32(e.name.encode(), crc)
    return crc


def archive_id(header: Header, entries: list, blocks: list) -> int:
    """§2 "archive id": the CRC-32 of every entry's name and payload in order; version 3 block by
    block: each entry's name and own payload, then the block's message. (A reader need not check
    it; conformance.py does, to pin the definition.)"""
    crc = 0
    if header.version == 2:
        for e in entries:
            crc = zlib.crc32(e.name.encode(), crc)
            crc = zlib.crc32(e.payload, crc)
        return crc
    for b in blocks:
        for e in b.entries:
            crc = zlib.crc32(e.name.encode(), crc)
            crc = zlib.crc32(e.payload, crc)
        crc = zlib.crc32(b.message, crc)
    return crc
