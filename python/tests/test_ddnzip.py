"""Tests of the Python package `ddnzip` on real archives made by the built `ddnzip` tool.

Run from the repository after `swift build -c release` (`.ci/test` runs them):

    PYTHONPATH=python python3 -m unittest discover -s python/tests -v

Needs NumPy and pypng (Debian's python3-numpy and python3-png); the sample comes from
`python3 Corpus/make-fashion-mnist-sample.py`. DDNZIP_BIN names another folder of built tools.
"""

import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

import numpy as np
import png

import ddnzip

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DDNZIP_BIN", os.path.join(REPO, ".build", "release"))
SAMPLE = os.path.join(REPO, "Corpus", "fashion-mnist", "test-sample")
OLD_MODEL = os.path.join(REPO, "Corpus", "models", "fashion-mnist-v1.ddnm")


def pypng_array(path):
    """The PNG at `path` as pypng reads it: H×W or H×W×planes, uint8 or uint16."""
    with open(path, "rb") as f:
        width, height, rows, info = png.Reader(bytes=f.read()).read()
    planes = info["planes"]
    a = np.array([np.asarray(r) for r in rows], dtype=np.uint16 if info["bitdepth"] > 8 else np.uint8)
    return a.reshape(height, width) if planes == 1 else a.reshape(height, width, planes)


def ddnzip_tool(*args, cwd=None):
    """The built `ddnzip`; entries keep the paths given (relative to `cwd`), as the README shows."""
    subprocess.run([os.path.join(BIN, "ddnzip"), "-q", *args], check=True, cwd=cwd)


class SampleArchiveTests(unittest.TestCase):
    """The 1,000-image Fashion-MNIST sample in one archive (coder 5 and the classical coders)."""

    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(SAMPLE):
            raise unittest.SkipTest(f"no sample at {SAMPLE}: run python3 Corpus/make-fashion-mnist-sample.py")
        cls.tmp = tempfile.mkdtemp(prefix="ddnzip-py-")
        cls.path = os.path.join(cls.tmp, "sample.ddnz")
        # names keep the path given, as in the README: Corpus/fashion-mnist/test-sample/test-00000.png
        ddnzip_tool(cls.path, os.path.relpath(SAMPLE, REPO), cwd=REPO)
        cls.files = sorted(os.path.relpath(os.path.join(SAMPLE, f), REPO) for f in os.listdir(SAMPLE) if f.endswith(".png"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_entry_equals_pypng(self):
        with ddnzip.open(self.path) as a:
            self.assertEqual(len(a), 1000)
            self.assertEqual(a.names, self.files)
            self.assertFalse(a.damaged)
            count = 0
            for (name, array), entry in zip(a.items(), a.entries):
                expected = pypng_array(os.path.join(REPO, name))
                self.assertEqual(array.dtype, expected.dtype, name)
                self.assertEqual(array.shape, entry.shape, name)
                np.testing.assert_array_equal(array, expected, err_msg=name)
                count += 1
            self.assertEqual(count, 1000)

    def test_indexing(self):
        with ddnzip.open(self.path, threads=1) as a:
            name = self.files[123]
            expected = pypng_array(os.path.join(REPO, name))
            np.testing.assert_array_equal(a[123], expected)
            np.testing.assert_array_equal(a[name], expected)
            np.testing.assert_array_equal(a[-1], pypng_array(os.path.join(REPO, self.files[-1])))
            # the README's example: names keep their paths
            self.assertEqual(a.names[0], "Corpus/fashion-mnist/test-sample/test-00000.png")
            np.testing.assert_array_equal(a["Corpus/fashion-mnist/test-sample/test-00042.png"], a[42])
            with self.assertRaises(KeyError):
                a["test-00042.png"]
            self.assertEqual(len(a[10:14]), 4)
            np.testing.assert_array_equal(a[10:14][2], a[12])
            self.assertEqual(a[0].shape, (28, 28))
            self.assertEqual(a[0].dtype, np.uint8)
            with self.assertRaises(IndexError):
                a[1000]
            with self.assertRaisesRegex(KeyError, "no entry named 'nope.png'"):
                a["nope.png"]
            # iteration gives the same arrays as indexing
            first = next(iter(a))
            np.testing.assert_array_equal(first, a[0])
        with self.assertRaisesRegex(ValueError, "closed"):
            a[0]

    def test_wrong_model_is_refused(self):
        # the archive needs the embedded default: named as such, with the file given
        with self.assertRaisesRegex(ddnzip.ModelError, r"archive needs the embedded default model \(SHA-256 [0-9a-f]{8}…\), "
                                    r"not .*fashion-mnist-v1\.ddnm \(SHA-256 [0-9a-f]{8}…, the embedded earlier default model "
                                    r"fashion-mnist-v1\): use it with model=None$"):
            ddnzip.open(self.path, model=OLD_MODEL)
        with self.assertRaisesRegex(ddnzip.ModelError, "missing.ddnm"):
            ddnzip.open(self.path, model=os.path.join(self.tmp, "missing.ddnm"))
        with self.assertRaisesRegex(ddnzip.ModelError, "not a usable model file"):
            ddnzip.open(self.path, model=os.path.join(REPO, self.files[0]))


    def test_damaged_header_byte_is_repaired_and_reported(self):
        # ddnunzip repairs one damaged header byte by the entries' CRC-32; so does open(), as damage
        with open(self.path, "rb") as f:
            data = f.read()
        # the archive id and the model identity (in format 3 every block of the sample uses the
        # statistics, so their bytes cannot be repaired without a decode per trial, in ddnunzip
        # either: Spec/ARCHIVE.md §6)
        for offset in (8, 12):
            damaged = bytearray(data)
            damaged[offset] ^= 0xFF
            path = os.path.join(self.tmp, f"header{offset}.ddnz")
            with open(path, "wb") as f:
                f.write(damaged)
            with ddnzip.open(path) as a:
                self.assertTrue(a.damaged, f"header byte {offset}")
                self.assertEqual(len(a), len(self.files), f"header byte {offset}")
                for name, array in zip(a.names[:40], a[:40]):
                    np.testing.assert_array_equal(array, pypng_array(os.path.join(REPO, name)), err_msg=f"{name}, header byte {offset}")


class DamageTests(unittest.TestCase):
    """A small archive of the sample's first 40 images in blocks of 8, damaged."""

    BLOCK = 8

    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(SAMPLE):
            raise unittest.SkipTest(f"no sample at {SAMPLE}")
        cls.tmp = tempfile.mkdtemp(prefix="ddnzip-py-")
        folder = os.path.join(cls.tmp, "forty")
        os.mkdir(folder)
        first = sorted(f for f in os.listdir(SAMPLE) if f.endswith(".png"))[:40]
        for f in first:
            shutil.copy(os.path.join(SAMPLE, f), folder)
        cls.files = ["forty/" + f for f in first]   # names keep the path given
        cls.path = os.path.join(cls.tmp, "forty.ddnz")
        # blocks of 8 entries (archive format 3, Spec/ARCHIVE.md §3.4): damage costs the block it hits
        ddnzip_tool("--block", str(cls.BLOCK), cls.path, "forty", cwd=cls.tmp)
        with open(cls.path, "rb") as f:
            cls.bytes = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_damaged_entry_is_named_and_the_others_read(self):
        damaged = bytearray(self.bytes)
        damaged[len(damaged) // 2] ^= 0x5A    # inside one block's payloads or message
        with ddnzip.open(self.write("flipped.ddnz", damaged)) as a:
            self.assertEqual(a.names, self.files)
            failed = []
            for i, name in enumerate(a.names):
                try:
                    array = a[i]
                except ddnzip.EntryError as e:
                    failed.append(name)
                    self.assertEqual(e.entry, name)
                    self.assertEqual(e.status, ddnzip.DAMAGED)
                    self.assertIn(name, str(e))
                    self.assertIn("block", str(e))
                    continue
                np.testing.assert_array_equal(array, pypng_array(os.path.join(self.tmp, name)), err_msg=name)
            # exactly the entries of the block the damage hit
            first = self.files.index(failed[0])
            self.assertEqual(first % self.BLOCK, 0, failed)
            self.assertEqual(failed, self.files[first:first + self.BLOCK])
            # iteration raises at the first damaged entry; items() can skip them
            with self.assertRaises(ddnzip.EntryError) as caught:
                list(a)
            self.assertEqual(caught.exception.entry, failed[0])
            self.assertEqual([n for n, _ in a.items(skip_damaged=True)], [n for n in self.files if n not in failed])

    def test_cut_archive_gives_every_whole_entry(self):
        with ddnzip.open(self.write("cut.ddnz", self.bytes[:-1])) as a:   # the end record cut short
            self.assertTrue(a.damaged)
            self.assertEqual(a.names, self.files)
            self.assertEqual(len(list(a)), 40)
        with ddnzip.open(self.write("cut2.ddnz", self.bytes[: len(self.bytes) * 3 // 4])) as a:
            self.assertTrue(a.damaged)
            # every whole block before the cut (3 of 5 at least), nothing of the block it cuts
            self.assertEqual(len(a) % self.BLOCK, 0)
            self.assertGreaterEqual(len(a), 3 * self.BLOCK)
            self.assertEqual(a.names, self.files[:len(a)])
            good = list(a.items(skip_damaged=True))
            self.assertEqual(len(good), len(a))
            for name, array in good:
                np.testing.assert_array_equal(array, pypng_array(os.path.join(self.tmp, name)), err_msg=name)

    def test_entries_lost_to_a_cut_are_named_as_ddnunzip_names_them(self):
        # the entries of the block a cut falls in (format 2: the entry), not among the names
        v2 = os.path.join(self.tmp, "forty-v2.ddnz")
        ddnzip_tool("--block", "1", v2, "forty", cwd=self.tmp)
        with open(v2, "rb") as f:
            v2bytes = f.read()
        with ddnzip.open(self.path) as a:
            self.assertEqual(a.lost, [])
        named_any = 0
        for label, data in (("format 3", self.bytes), ("format 2", v2bytes)):
            for cut in (len(data) // 4, len(data) // 2 + 7, len(data) * 3 // 4, len(data) - 1):
                path = self.write(f"lost-{cut}.ddnz", data[:cut])
                r = subprocess.run([os.path.join(BIN, "ddnunzip"), "-t", path], capture_output=True, text=True)
                named = re.findall(r"inside entry (\S+) \(from byte", r.stderr)
                with ddnzip.open(path) as a:
                    self.assertTrue(a.damaged)
                    self.assertEqual(a.lost, named, f"{label}, cut at {cut}")
                    self.assertFalse(set(a.lost) & set(a.names), f"{label}, cut at {cut}")
                    if cut < len(data) - 1:   # (the last cut falls in the end record: nothing lost)
                        self.assertEqual(a.lost, self.files[len(a):len(a) + (self.BLOCK if label == "format 3" else 1)], f"{label}, cut at {cut}")
                named_any += len(a.lost)
        self.assertEqual(named_any, 3 * self.BLOCK + 3)

    def test_indices_behave_as_a_sequence(self):
        with ddnzip.open(self.path, threads=1) as a:
            np.testing.assert_array_equal(a[-40], a[0])
            np.testing.assert_array_equal(a[np.int64(3)], a[3])
            np.testing.assert_array_equal(a.decode([-1])[0], a[39])   # negative from the end, as a[-1]
            for bad in (-41, 40):
                with self.assertRaisesRegex(IndexError, rf"entry index {bad} out of range \(the archive has 40 entries: 0 to 39, or -40 to -1 from the end\)"):
                    a[bad]
                with self.assertRaisesRegex(IndexError, rf"entry index {bad} out of range"):
                    a.decode([0, bad])
            for bad in (1.7, True, None, 2.0):
                with self.assertRaisesRegex(TypeError, "entry indices must be integers"):
                    a[bad]
                with self.assertRaisesRegex(TypeError, "entry indices must be integers"):
                    a.decode([bad])
            with self.assertRaisesRegex(ValueError, "errors must be 'raise' or 'return', not 'bogus'"):
                a.decode([0], errors="bogus")
            self.assertEqual(len(a[-3:]), 3)

    def test_unsafe_name_is_refused_not_damage(self):
        # a crafted version-2 archive (Spec/ARCHIVE.md §7 layout): 2×1 grey entries, raw coder 3
        def varint(n):
            return bytes([n]) if n < 128 else bytes([n & 127 | 128]) + varint(n >> 7)
        names, samples = [b"a.png", b"../evil.png"], bytes([0, 255])
        archive_id = 0
        for n in names:
            archive_id = zlib.crc32(n + samples, archive_id)
        header = b"DDNZ\x02\x00" + struct.pack(">I", archive_id)
        body = b""
        for n in names:
            fields, shape = b"\x83" + varint(len(n)), bytes([2, 1, 8, 0]) + samples
            check = zlib.crc32(n, zlib.crc32(samples, zlib.crc32(fields + shape, zlib.crc32(header))))
            body += fields + n + shape + struct.pack(">I", check)
        with ddnzip.open(self.write("crafted.ddnz", header + body + b"\x07\x02")) as a:
            self.assertEqual(a.names, ["a.png", "../evil.png"])
            np.testing.assert_array_equal(a[0], np.array([[0, 255]], dtype=np.uint8))
            with self.assertRaisesRegex(ddnzip.EntryError, r'entry "\.\./evil\.png" refused for its unsafe name \(a \.\. component\)') as caught:
                a[1]
            self.assertEqual(caught.exception.status, ddnzip.UNSUPPORTED)
            self.assertEqual(caught.exception.entry, "../evil.png")

    def test_bad_files_are_one_line_errors(self):
        with self.assertRaisesRegex(ddnzip.ArchiveError, "not a ddnzip archive"):
            ddnzip.open(os.path.join(self.tmp, self.files[0]))
        with self.assertRaisesRegex(ddnzip.ArchiveError, "truncated"):
            ddnzip.open(self.write("header.ddnz", self.bytes[:6]))
        with self.assertRaisesRegex(ddnzip.ArchiveError, "nothing-here.ddnz"):
            ddnzip.open(os.path.join(self.tmp, "nothing-here.ddnz"))


if __name__ == "__main__":
    unittest.main()
