"""What ``torch.compile`` needs from the machine: its CPU backend (Inductor) compiles generated C++, so a compiled
training step or ensemble is refused up front, by name, where no C++ compiler can be found (rather than failing
deep inside the first compiled call). Imported by the compiled step and the ensemble; imports nothing of wgan."""

from __future__ import annotations

import os
import shutil


def has_cpp_compiler() -> bool:
    """Whether torch.compile's CPU backend (Inductor) can find a C++ compiler: $CXX, g++, c++ or clang++."""
    cxx = os.environ.get("CXX")
    return any(shutil.which(c) for c in ([cxx] if cxx else []) + ["g++", "c++", "clang++"])
