"""Builds lucent._lucent with the repository's own CMake (liblucent.a, the CLI's codecs and the
pybind11 module, all static in one extension), so `pip install --no-build-isolation ./python`
is the one command. The C++ tree is this file's parent folder, or LUCENT_SOURCE_DIR."""
import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        source = os.environ.get("LUCENT_SOURCE_DIR", os.path.dirname(HERE))
        if not os.path.isfile(os.path.join(source, "CMakeLists.txt")):
            raise RuntimeError(f"lucent: no C++ tree at {source} (set LUCENT_SOURCE_DIR to a Lucent checkout)")
        out_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        build = os.path.join(os.path.abspath(self.build_temp), "cmake")
        os.makedirs(build, exist_ok=True)
        generator = ["-G", "Ninja"] if subprocess.run(["ninja", "--version"], capture_output=True).returncode == 0 else []
        subprocess.run(["cmake", "-S", source, "-B", build, *generator, "-DCMAKE_BUILD_TYPE=Release",
                        "-DLUCENT_BUILD_PYTHON=ON", "-DLUCENT_BUILD_TESTS=OFF", "-DLUCENT_BUILD_BENCH=OFF",
                        f"-DPython3_EXECUTABLE={sys.executable}", f"-DLUCENT_PYTHON_OUTPUT_DIR={out_dir}"],
                       check=True)
        subprocess.run(["cmake", "--build", build, "--target", "_lucent", "-j", str(os.cpu_count() or 1)], check=True)


setup(ext_modules=[CMakeExtension("lucent._lucent")], cmdclass={"build_ext": CMakeBuild})
