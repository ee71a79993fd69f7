"""Reads promlink's expositions back with prometheus_client's parsers, in bulk.

Usage: round_trip.py CASES.jsonl

Written by tests/exposition_proptest.rs: one JSON object per line, each an exposition
that promlink encoded and what it must mean:

    {"case": 17, "part": "histogram", "format": "openmetrics" | "text",
     "exposition": "...",
     "families": [{"name": "h_seconds", "header": "h_seconds", "type": "histogram",
                   "help": "...", "unit": "seconds",
                   "samples": [["h_seconds_bucket", [["route", "x"], ["le", "1.0"]], 4607182418800017408],
                               ["h_seconds_created", [["route", "x"]], null]]}]}

Sample values are IEEE 754 bit patterns (unsigned integers), so that they cross over
exactly; `null` stands for a `_created` time, which must only be a plausible timestamp. A
label value given as a bit pattern (`le`) stands for that float in OpenMetrics' canonical
spelling (see `canonical`).

For each exposition it checks that:

- the right parser (`prometheus_client.parser` for "text",
  `prometheus_client.openmetrics.parser` for "openmetrics") accepts it;
- the parsed families are exactly the expected ones: names, types, HELP, units, and the
  samples (name, labels compared as a dict, values bit for bit with NaN equal to NaN, no
  timestamps, none missing, none extra), and each sample's exemplar: none unless one is
  expected (a fourth element, `[[[name, value], ..], value_bits]`), then its labels, its
  value bit for bit and a plausible timestamp;
- each HELP line, unescaped by the format's own rules, is the HELP text exactly. (The
  parsers drop a HELP text's leading separators, and the 0.0.4 parser its trailing
  whitespace; the comparison with the parsed HELP allows for exactly that, and this raw
  check covers what they drop.)

Exits 0 when every exposition passes, 1 with one report per failure (the case index, the
part, the format, the difference and the exposition) on stderr, 2 when prometheus_client
is missing.
"""

import json
import math
import string
import sys
import time
from decimal import Decimal

from promlink_support import (
    EXIT_MISMATCH,
    EXIT_OK,
    float_from_bits,
    read_exposition,
    require_prometheus_client,
    same_float,
    sample_key,
    show_float,
    show_key,
)

require_prometheus_client()

from prometheus_client.openmetrics.parser import (  # noqa: E402  (after the check, on purpose)
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import (  # noqa: E402
    text_string_to_metric_families as parse_text,
)

PARSERS = {"text": parse_text, "openmetrics": parse_openmetrics}

# Failures reported in full; the rest are counted.
MAX_REPORTS = 20


def unescape_help(escaped, fmt):
    """The HELP text of a HELP line as the format defines it: 0.0.4 escapes `\\` and
    newline only, OpenMetrics also `"`. Raises ValueError on any other escape."""
    out = []
    chars = iter(escaped)
    for c in chars:
        if c != "\\":
            out.append(c)
            continue
        n = next(chars, None)
        if n == "\\":
            out.append("\\")
        elif n == "n":
            out.append("\n")
        elif n == '"' and fmt == "openmetrics":
            out.append('"')
        else:
            sequence = "\\" + (n or "")
            raise ValueError(f"invalid escape {sequence!r} in HELP {escaped!r}")
    return "".join(out)


def canonical(value):
    """OpenMetrics' canonical spelling of an `le` or `quantile` value: Go's
    `strconv.FormatFloat(v, 'g', -1, 64)` (the shortest digits that read back exactly, in
    exponent form when the decimal exponent is below -4 or at least 6, with at least two
    exponent digits), plus `.0` when that has neither `.` nor `e`: `1.0`, `100000.0`,
    `1e+06`, `1.5e-07`, `-0.0`, `+Inf`.

    Written independently of promlink: the digits come from Python's `repr` (shortest
    round trip) through `Decimal`, which keeps them exactly.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0.0"
    number = Decimal(repr(abs(value))).normalize()
    digits = "".join(map(str, number.as_tuple().digits))
    exponent = number.adjusted()  # the decimal exponent of the first digit
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    integer_digits = exponent + 1
    if len(digits) <= integer_digits:
        return f"{sign}{digits}{'0' * (integer_digits - len(digits))}.0"
    return f"{sign}{digits[:integer_digits]}.{digits[integer_digits:]}"


def expected_label_value(value):
    """A label value from the JSON: a string as is, a bit pattern in canonical spelling."""
    return value if isinstance(value, str) else canonical(float_from_bits(value))


def help_as_parsed(text, fmt):
    """What prometheus_client 0.26's parser returns for HELP `text`.

    Both parsers split the HELP line on separators and skip repeated ones, so leading
    separators of the escaped text are lost: spaces in OpenMetrics, ASCII whitespace in
    0.0.4. The 0.0.4 parser also `strip()`s each line, losing trailing (Unicode)
    whitespace. Escaped newlines are not whitespace on the line, so they survive.
    """
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    if fmt == "openmetrics":
        return unescape_help(escaped.lstrip(" "), fmt)
    return unescape_help(escaped.lstrip(string.whitespace).rstrip(), fmt)


def plausible_created(value):
    return 1.577e9 < value <= time.time() + 60


def check_help_lines(doc, problems):
    lines = doc["exposition"].split("\n")
    for family in doc["families"]:
        prefix = f"# HELP {family['header']} "
        found = [line[len(prefix):] for line in lines if line.startswith(prefix)]
        if len(found) != 1:
            problems.append(f"{len(found)} HELP lines for {family['header']}, expected 1")
            continue
        try:
            written = unescape_help(found[0], doc["format"])
        except ValueError as error:
            problems.append(str(error))
            continue
        if written != family["help"]:
            problems.append(f"HELP of {family['header']} reads back as {written!r}, expected {family['help']!r}")


def check_families(doc, parsed, problems):
    fmt = doc["format"]
    expected = {f["name"]: f for f in doc["families"]}
    seen = set()
    for family in parsed:
        if family.name in seen:
            problems.append(f"family {family.name} parsed twice")
        seen.add(family.name)
        want = expected.get(family.name)
        if want is None:
            problems.append(f"unexpected family {family.name} ({family.type})")
            continue
        for what, got, wanted in (
            ("type", family.type, want["type"]),
            ("unit", family.unit, want["unit"]),
            ("help", family.documentation, help_as_parsed(want["help"], fmt)),
        ):
            if got != wanted:
                problems.append(f"family {family.name}: {what} {got!r}, expected {wanted!r}")
        check_samples(family, want, problems)
    for name in sorted(expected.keys() - seen):
        problems.append(f"family {name} missing")


def check_exemplar(key, sample, expected, problems):
    """The sample's exemplar against `expected`, `[[[name, value], ..], value_bits]` or
    None (no exemplar)."""
    got = sample.exemplar
    if expected is None:
        if got is not None:
            problems.append(f"sample {show_key(key)} has an unexpected exemplar {got!r}")
        return
    if got is None:
        problems.append(f"sample {show_key(key)} lacks its exemplar")
        return
    labels, bits = expected
    if got.labels != dict(labels):
        problems.append(f"exemplar of {show_key(key)}: labels {got.labels!r}, expected {dict(labels)!r}")
    if not same_float(got.value, float_from_bits(bits)):
        problems.append(
            f"exemplar of {show_key(key)}: value {show_float(got.value)}, expected {show_float(float_from_bits(bits))}"
        )
    if got.timestamp is None or not plausible_created(float(got.timestamp)):
        problems.append(f"exemplar of {show_key(key)}: implausible timestamp {got.timestamp!r}")


def check_samples(family, want, problems):
    wanted, exemplars = {}, {}
    for name, labels, bits, *exemplar in want["samples"]:
        labels = ((k, expected_label_value(v)) for k, v in labels)
        key = (name, tuple(sorted(labels)))
        wanted[key] = bits
        exemplars[key] = exemplar[0] if exemplar else None
    got = {}
    for sample in family.samples:
        key = sample_key(sample)
        if key in got:
            problems.append(f"sample {show_key(key)} parsed twice")
        if sample.timestamp is not None:
            problems.append(f"sample {show_key(key)} has a timestamp")
        check_exemplar(key, sample, exemplars.get(key), problems)
        got[key] = sample.value
    for key in sorted(wanted.keys() - got.keys()):
        problems.append(f"sample {show_key(key)} missing")
    for key in sorted(got.keys() - wanted.keys()):
        problems.append(f"unexpected sample {show_key(key)} = {got[key]!r}")
    for key in sorted(wanted.keys() & got.keys()):
        bits, value = wanted[key], got[key]
        if bits is None:
            if not plausible_created(value):
                problems.append(f"sample {show_key(key)}: implausible _created time {value!r}")
        elif not same_float(value, float_from_bits(bits)):
            problems.append(
                f"sample {show_key(key)}: read back as {show_float(value)}, "
                f"expected {show_float(float_from_bits(bits))}"
            )


def check(doc, stats):
    """The problems with one exposition, as text lines (none when it passes)."""
    problems = []
    text, fmt = doc["exposition"], doc["format"]
    ending = "# EOF\n" if fmt == "openmetrics" else "\n"
    if not text.endswith(ending):
        problems.append(f"the exposition does not end with {ending!r}")
    check_help_lines(doc, problems)
    try:
        parsed = list(PARSERS[fmt](text))
    except Exception as error:
        problems.append(f"the {fmt} parser rejects it: {error!r}")
        return problems
    check_families(doc, parsed, problems)
    stats[f"{fmt} expositions read back"] += 1
    return problems


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(f"usage: {argv[0]} CASES.jsonl\n")
        return EXIT_MISMATCH
    stats = {
        "text expositions read back": 0,
        "openmetrics expositions read back": 0,
    }
    failures = 0
    # One JSON document per "\n"-terminated line (not `splitlines()`, which would also
    # split at the U+2028 or U+0085 that JSON strings may hold raw).
    for line in read_exposition(argv[1]).split("\n"):
        if not line:
            continue
        doc = json.loads(line)
        problems = check(doc, stats)
        if not problems:
            continue
        failures += 1
        if failures <= MAX_REPORTS:
            sys.stderr.write(f"case {doc['case']}, {doc['part']}, {doc['format']}:\n")
            for problem in problems:
                sys.stderr.write(f"  {problem}\n")
            sys.stderr.write(f"  exposition: {doc['exposition']!r}\n")
    summary = ", ".join(f"{n} {what}" for what, n in stats.items())
    if failures:
        if failures > MAX_REPORTS:
            sys.stderr.write(f"... and {failures - MAX_REPORTS} more failing expositions\n")
        sys.stderr.write(f"{failures} expositions failed ({summary})\n")
        return EXIT_MISMATCH
    sys.stderr.write(f"round trip: {summary}\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
