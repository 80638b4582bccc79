"""Read ddnzip archives (.ddnz) straight into NumPy arrays.

    >>> import ddnzip
    >>> # sample.ddnz: ddnzip sample.ddnz Corpus/fashion-mnist/test-sample (names keep the path)
    >>> a = ddnzip.open("sample.ddnz")          # model=None: the model compiled into the library
    >>> len(a), a.names[0], a[0].shape, a[0].dtype
    (1000, 'Corpus/fashion-mnist/test-sample/test-00000.png', (28, 28), dtype('uint8'))
    >>> a["Corpus/fashion-mnist/test-sample/test-00042.png"].shape
    (28, 28)

An entry decodes to an H×W array (grey) or H×W×C (C = 2 grey+alpha, 3 RGB, 4 RGBA; palette
images come as RGB, or RGBA when they carry transparency), uint8 for bit depths up to 8 (samples
keep their values: a 4-bit image holds 0…15), uint16 for 16 bits. Iterating decodes entries in
batches, entries of one shape in lockstep on all cores, as ``ddnunzip`` does.

The work is done by libDDNZipC, the C ABI built with the command-line tools (``swift build -c
release``); this module only calls it through ctypes (python/README.md). It is found, in order:
the environment variable DDNZIP_LIB (the library's path); a copy installed inside this package
(``pip install ./python``); ``.build/release`` then ``.build/debug`` of the repository this file
sits in (PYTHONPATH=python).
"""

import ctypes
import operator
import os

import numpy as np

__all__ = ["open", "Archive", "Entry", "Error", "ArchiveError", "ModelError", "EntryError"]

ABI_VERSION = 2
LIBRARY = "libDDNZipC.dylib" if os.uname().sysname == "Darwin" else "libDDNZipC.so"

# Status codes of the C ABI (python/README.md).
OK, ARGUMENT, IO, FORMAT, MODEL, DAMAGED, UNSUPPORTED = range(7)


class Error(Exception):
    """A ddnzip failure; ``status`` is the C ABI's status code."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class ArchiveError(Error):
    """The archive cannot be opened: unreadable file, not an archive, a header that cannot be read."""


class ModelError(Error):
    """The model is missing, not a model file, or not the one the archive names."""


class EntryError(Error):
    """One entry cannot be given: it is damaged (fails its CRC-32), stored without pixels, or
    refused for an unsafe name (absolute, ``..``: a crafted archive; ``status`` UNSUPPORTED, not
    DAMAGED). ``entry`` is its name; the other entries still read."""

    def __init__(self, message, status=None, entry=None):
        super().__init__(message, status)
        self.entry = entry


class Entry(ctypes.Structure):
    """One entry's array: ``height × width × channels`` samples of ``bit_depth`` bits (the C
    struct ``ddnz_entry``), its PNG colour type and archive coder; ``name`` is set by ``Archive``."""

    _fields_ = [("width", ctypes.c_int32), ("height", ctypes.c_int32), ("channels", ctypes.c_int32),
                ("bit_depth", ctypes.c_int32), ("color_type", ctypes.c_int32), ("coder", ctypes.c_int32)]
    name = None

    @property
    def shape(self):
        """The array's shape: (H, W) for one channel, else (H, W, C)."""
        return (self.height, self.width) if self.channels == 1 else (self.height, self.width, self.channels)

    @property
    def dtype(self):
        return np.dtype(np.uint16) if self.bit_depth > 8 else np.dtype(np.uint8)

    def __repr__(self):
        return f"Entry({self.name!r}, shape={self.shape}, bit_depth={self.bit_depth})"


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ.get("DDNZIP_LIB")
    if env:
        yield env
        return
    yield os.path.join(here, LIBRARY)
    repo = os.path.dirname(os.path.dirname(here))
    for config in ("release", "debug"):
        yield os.path.join(repo, ".build", config, LIBRARY)


_lib = None


def _library():
    """Loads libDDNZipC once and declares its functions."""
    global _lib
    if _lib is not None:
        return _lib
    tried = list(_candidates())
    path = next((p for p in tried if os.path.exists(p)), None)
    if path is None:
        raise ImportError(f"ddnzip: {LIBRARY} not found (tried {', '.join(tried)}); build it with "
                          f"`swift build -c release` in the repository, or set DDNZIP_LIB to its path")
    lib = ctypes.CDLL(path)
    c = ctypes
    lib.ddnz_abi_version.restype = c.c_int32
    lib.ddnz_abi_version.argtypes = []
    if lib.ddnz_abi_version() != ABI_VERSION:
        raise ImportError(f"ddnzip: {path} has ABI version {lib.ddnz_abi_version()}, this module needs {ABI_VERSION}")
    lib.ddnz_last_error.restype = c.c_char_p
    lib.ddnz_last_error.argtypes = []
    lib.ddnz_open.restype = c.c_int32
    lib.ddnz_open.argtypes = [c.c_char_p, c.c_char_p, c.c_int32, c.POINTER(c.c_void_p)]
    lib.ddnz_close.restype = None
    lib.ddnz_close.argtypes = [c.c_void_p]
    lib.ddnz_count.restype = c.c_int64
    lib.ddnz_count.argtypes = [c.c_void_p]
    lib.ddnz_damaged.restype = c.c_int32
    lib.ddnz_damaged.argtypes = [c.c_void_p]
    lib.ddnz_entry_name.restype = c.c_char_p
    lib.ddnz_entry_name.argtypes = [c.c_void_p, c.c_int64]
    lib.ddnz_lost_count.restype = c.c_int64
    lib.ddnz_lost_count.argtypes = [c.c_void_p]
    lib.ddnz_lost_name.restype = c.c_char_p
    lib.ddnz_lost_name.argtypes = [c.c_void_p, c.c_int64]
    lib.ddnz_entry_info.restype = c.c_int32
    lib.ddnz_entry_info.argtypes = [c.c_void_p, c.c_int64, c.POINTER(Entry)]
    lib.ddnz_decode_batch.restype = c.c_int32
    lib.ddnz_decode_batch.argtypes = [c.c_void_p, c.POINTER(c.c_int64), c.c_int64, c.POINTER(c.c_void_p),
                                      c.POINTER(c.c_int64), c.POINTER(c.c_int32)]
    _lib = lib
    return lib


def _message(lib):
    m = lib.ddnz_last_error()
    return m.decode("utf-8", "replace") if m else "unknown error"


def open(path, model=None, threads=0):
    """Opens the archive at ``path``. ``model``: a model file (.ddnm), or None for the model
    compiled into the library (loaded only when the archive names a model). ``threads``: threads
    decoding entries, 0 for all cores.

    Raises ArchiveError (the file cannot be read, is not an archive) or ModelError (the archive
    needs another model)."""
    return Archive(path, model=model, threads=threads)


class Archive:
    """An open archive: ``len(a)``, ``a.names``, ``a.entries`` (shapes), ``a[i]`` or ``a[name]``
    → numpy.ndarray, iteration in lockstep batches, ``close()`` or ``with``; ``a.damaged`` and
    ``a.lost`` (names of entries lost to a cut) report damage found when opening."""

    #: Entries decoded per call when iterating: a multiple of the 16 entries (format 2) or 64-entry
    #: blocks (format 3) the kernel runs in lockstep, large enough for 16 blocks on the cores.
    batch_size = 1024

    def __init__(self, path, model=None, threads=0):
        lib = _library()
        self.path = os.fspath(path)
        handle = ctypes.c_void_p()
        status = lib.ddnz_open(os.fsencode(self.path), None if model is None else os.fsencode(os.fspath(model)),
                               int(threads), ctypes.byref(handle))
        if status != OK:
            raise (ModelError if status == MODEL else ArchiveError)(_message(lib), status)
        self._lib, self._handle = lib, handle
        count = lib.ddnz_count(handle)
        self.entries = []
        for i in range(count):
            e = Entry()
            if lib.ddnz_entry_info(handle, i, ctypes.byref(e)) != OK:
                raise ArchiveError(_message(lib))
            e.name = lib.ddnz_entry_name(handle, i).decode("utf-8", "surrogateescape")
            self.entries.append(e)
        self.names = [e.name for e in self.entries]
        self._index = {n: i for i, n in enumerate(self.names)}
        #: True when reading the archive already found damage (some entries may raise EntryError),
        #: a header byte repaired by the entries' CRC-32 included (as ``ddnunzip`` reports it).
        self.damaged = bool(lib.ddnz_damaged(handle))
        #: Names of entries lost (not in ``names``) that the archive still gives, as ``ddnunzip``
        #: names them: those of the block a cut falls in (format 2: the entry), when their fields
        #: are there. Entries lost in unreadable bytes are not named here.
        self.lost = [lib.ddnz_lost_name(handle, i).decode("utf-8", "surrogateescape") for i in range(lib.ddnz_lost_count(handle))]

    def __len__(self):
        return len(self.entries)

    def __repr__(self):
        return f"<ddnzip.Archive {self.path!r}: {len(self)} entries{'' if self._handle else ', closed'}>"

    def index(self, name):
        """The index of the entry named ``name``; KeyError when there is none."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"{self.path}: no entry named {name!r}") from None

    def __getitem__(self, key):
        """``a[i]`` (an int, negative from the end), ``a[name]`` or ``a[i:j]`` (a list), as a
        sequence: TypeError for any other key (a float, a bool), IndexError out of range."""
        if isinstance(key, slice):
            return self.decode(range(len(self))[key])
        if isinstance(key, str):
            return self.decode([self.index(key)])[0]
        return self.decode([key])[0]

    def _entry_index(self, i):
        """``i`` as an index into the entries: an int (or an object with ``__index__``, not a
        bool), negative counting from the end; TypeError or IndexError naming it otherwise."""
        if isinstance(i, bool) or not hasattr(type(i), "__index__"):
            raise TypeError(f"{self.path}: entry indices must be integers (or names for a[name]), not {type(i).__name__}")
        k = operator.index(i)
        n = len(self.entries)
        if not -n <= k < n:
            valid = f"0 to {n - 1}, or -{n} to -1 from the end" if n else "it has no entries"
            raise IndexError(f"{self.path}: entry index {k} out of range (the archive has {n} entr{'y' if n == 1 else 'ies'}: {valid})")
        return k + n if k < 0 else k

    def decode(self, indices, errors="raise"):
        """Decodes the entries ``indices`` together (entries of one shape in lockstep, on the
        archive's threads) and returns their arrays in order. Indices are ints, negative
        counting from the end, as for ``a[i]`` (TypeError, IndexError otherwise). ``errors``:
        "raise" raises EntryError for the first entry that cannot be given (after decoding the
        others); "return" puts the EntryError in its place instead (ValueError for any other
        value)."""
        if errors not in ("raise", "return"):
            raise ValueError(f"errors must be 'raise' or 'return', not {errors!r}")
        handle = self._check_open()
        indices = [self._entry_index(i) for i in indices]
        n = len(indices)
        if n == 0:
            return []
        arrays = []
        for i in indices:
            e = self.entries[i]
            arrays.append(np.empty(e.shape, e.dtype))
        c = ctypes
        ids = (c.c_int64 * n)(*indices)
        buffers = (c.c_void_p * n)(*[a.ctypes.data for a in arrays])
        sizes = (c.c_int64 * n)(*[a.nbytes for a in arrays])
        statuses = (c.c_int32 * n)()
        status = self._lib.ddnz_decode_batch(handle, ids, n, buffers, sizes, statuses)
        if status == OK:
            return arrays
        failed = [k for k in range(n) if statuses[k] != OK]
        for k in failed:
            name = self.entries[indices[k]].name
            if len(failed) == 1:
                message = _message(self._lib)
            else:   # each entry's own message: decoded again alone (damage is rare)
                one = (c.c_int64 * 1)(indices[k])
                self._lib.ddnz_decode_batch(handle, one, 1, (c.c_void_p * 1)(arrays[k].ctypes.data),
                                            (c.c_int64 * 1)(arrays[k].nbytes), None)
                message = _message(self._lib)
            arrays[k] = EntryError(f"{self.path}: {message}", statuses[k], name)
        if errors == "raise":
            raise arrays[failed[0]]
        return arrays

    def __iter__(self):
        """Every entry's array in archive order, decoded ``batch_size`` at a time; raises
        EntryError at a damaged entry (after giving the ones before it)."""
        for start in range(0, len(self), self.batch_size):
            for a in self.decode(range(start, min(start + self.batch_size, len(self))), errors="return"):
                if isinstance(a, EntryError):
                    raise a
                yield a

    def items(self, skip_damaged=False):
        """(name, array) for every entry in archive order; ``skip_damaged``: leave out entries
        that cannot be given instead of raising EntryError."""
        for start in range(0, len(self), self.batch_size):
            batch = range(start, min(start + self.batch_size, len(self)))
            for i, a in zip(batch, self.decode(batch, errors="return")):
                if isinstance(a, EntryError):
                    if skip_damaged:
                        continue
                    raise a
                yield self.names[i], a

    def _check_open(self):
        if not self._handle:
            raise ValueError(f"{self.path}: the archive is closed")
        return self._handle

    def close(self):
        """Frees the archive (further reads raise ValueError); closing twice is harmless."""
        if getattr(self, "_handle", None):
            self._lib.ddnz_close(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
