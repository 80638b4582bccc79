#!/usr/bin/env python3
"""Decode every conformance vector with the reference decoder and compare the pixels byte for byte.

    conformance.py [VECTORS_DIR]     (default: Tests/Fixtures/conformance)

A vector is a folder holding archive.ddnz, optionally model.ddnm (or model-path: one line, a model's
path from the repository's root), and expected/NAME.pixels for
every entry (Spec/ARCHIVE.md §3.2 part 3 bytes; a stored entry's expected file is NAME itself).
Exit status 0 when every entry of every vector decodes, passes its CRC-32 and matches, and every
archive's id is what Spec/ARCHIVE.md §2 says (a reader need not check it; this pins its definition).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archive  # noqa: E402
import ddnref  # noqa: E402


def check(folder: str) -> bool:
    with open(os.path.join(folder, "archive.ddnz"), "rb") as fh:
        data = fh.read()
    model_path = os.path.join(folder, "model.ddnm")
    if os.path.exists(os.path.join(folder, "model-path")):       # a model committed elsewhere in the repository
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        model_path = os.path.join(root, open(os.path.join(folder, "model-path")).read().strip())
    model = open(model_path, "rb").read() if os.path.exists(model_path) else None
    t0 = time.perf_counter()
    try:
        entries, results = ddnref.decode_archive(data, model)
    except Exception as err:                     # the container or the model
        print(f"FAIL {os.path.basename(folder)}: {err}")
        return False
    ok = 0
    for e, (pixels, msg, _) in zip(entries, results):
        exp_path = os.path.join(folder, "expected", e.name + ("" if e.coder == 0 else ".pixels"))
        expected = open(exp_path, "rb").read() if os.path.exists(exp_path) else None
        if pixels is None:
            print(f"  {e.name}: {msg}")
        elif expected is None:
            print(f"  {e.name}: no expected pixels {exp_path}")
        elif pixels != expected:
            print(f"  {e.name}: decoded pixels differ from {exp_path}")
        else:
            ok += 1
    n = len(entries)
    want = sum(len(files) for _, _, files in os.walk(os.path.join(folder, "expected")))
    if want != n:
        print(f"  {want} expected files for {n} entries")
    header, entries_, blocks = archive.read_archive(data)          # Spec/ARCHIVE.md §2's archive id
    id_ok = archive.archive_id(header, entries_, blocks) == header.archive_id
    if not id_ok:
        print(f"  the archive id {header.archive_id:08x} is not the CRC-32 of the names and payloads")
    good = ok == n == want and id_ok
    print(f"{'ok  ' if good else 'FAIL'} {os.path.basename(folder)}: {ok} of {n} entries bit-exact ({time.perf_counter() - t0:.1f} s)")
    return good


def main() -> int:
    root = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/conformance"
    folders = sorted(os.path.join(root, d) for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    results = [check(f) for f in folders]
    print(f"conformance: {sum(results)} of {len(results)} vectors bit-exact")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
