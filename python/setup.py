"""Puts libDDNZipC (built by `swift build -c release` in the repository) into the package, so
that `pip install ./python` gives a module that needs no environment variable. DDNZIP_LIB names
another copy of the library."""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = "libDDNZipC.dylib" if os.uname().sysname == "Darwin" else "libDDNZipC.so"


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        lib = os.environ.get("DDNZIP_LIB") or os.path.join(HERE, "..", ".build", "release", LIBRARY)
        if not os.path.exists(lib):
            raise SystemExit(f"ddnzip: {lib} not found: run `swift build -c release` in the repository first "
                             f"(or set DDNZIP_LIB to the library's path)")
        shutil.copy(lib, os.path.join(self.build_lib, "ddnzip", LIBRARY))


class BinaryDistribution(Distribution):
    """A wheel for this platform only: it holds a native library."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=BinaryDistribution)
