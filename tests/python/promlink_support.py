"""Helpers shared by the Python halves of promlink's integration tests.

The Rust tests (tests/python_parity.rs, tests/exposition_proptest.rs) run the scripts in
this directory with `python3`. Exit status 0 means the check passed, 1 that it found a
mismatch (described on stderr), and 2 that the environment is unusable (no
prometheus_client, or not the version the tests are written against).
"""

import math
import struct
import sys

REQUIRED_VERSION = "0.26.0"
INSTALL_HINT = f"python3 -m pip install prometheus_client=={REQUIRED_VERSION}"

# Exit statuses, mirrored by the Rust side.
EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_ENVIRONMENT = 2


def require_prometheus_client():
    """Exits with EXIT_ENVIRONMENT unless prometheus_client REQUIRED_VERSION is importable.

    The parsers' exact behaviour (which inputs they reject, how they read HELP lines)
    changes between releases, so the tests pin the release they were written against.
    """
    try:
        import importlib.metadata

        import prometheus_client  # noqa: F401  (imported to prove it is importable)

        version = importlib.metadata.version("prometheus_client")
    except Exception as error:  # ImportError, PackageNotFoundError, a broken install...
        sys.stderr.write(
            f"prometheus_client is not installed for {sys.executable} ({error!r}).\n"
            f"Run `{INSTALL_HINT}`.\n"
        )
        sys.exit(EXIT_ENVIRONMENT)
    if version != REQUIRED_VERSION:
        sys.stderr.write(
            f"prometheus_client {version} is installed for {sys.executable}; these tests "
            f"are written against {REQUIRED_VERSION}.\nRun `{INSTALL_HINT}`.\n"
        )
        sys.exit(EXIT_ENVIRONMENT)


def read_exposition(path):
    """The file's text exactly: no newline translation (a raw `\\r` in a label value must
    reach the parser as it was written)."""
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def float_from_bits(bits):
    """The f64 whose IEEE 754 bit pattern is the unsigned integer `bits`."""
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def bits_of(value):
    """The IEEE 754 bit pattern of `value` as an unsigned integer."""
    return struct.unpack("<Q", struct.pack("<d", float(value)))[0]


def same_float(a, b):
    """Exact equality of two floats: the same bits, except that any NaN equals any NaN
    (the exposition formats have a single `NaN` spelling, so payload and sign are lost)."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return bits_of(a) == bits_of(b)


def show_float(value):
    """`repr` plus the bit pattern, so that 0.0 and -0.0 (or two NaNs) read differently."""
    value = float(value)
    return f"{value!r} (0x{bits_of(value):016x})"


def sample_key(sample):
    """A hashable identity for a parsed sample: its name and its labels, in any order."""
    return (sample.name, tuple(sorted(sample.labels.items())))


def show_key(key):
    name, labels = key
    if not labels:
        return name
    inner = ",".join(f"{k}={v!r}" for k, v in labels)
    return f"{name}{{{inner}}}"
