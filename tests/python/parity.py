"""Parity of promlink's expositions with Python's prometheus_client 0.26.

Usage: parity.py PROMLINK_TEXT PROMLINK_OPENMETRICS

The two files hold what tests/python_parity.rs built with promlink. This script builds the
same scenario with prometheus_client (the one of
/work/shared/reference/python_client_scenario.py, followed by the extensions below, which
tests/python_parity.rs mirrors line for line), renders it in both formats, and reads all
four expositions back with prometheus_client's own parsers:

- text 0.0.4 with `prometheus_client.parser.text_string_to_metric_families`;
- OpenMetrics 1.0 with `prometheus_client.openmetrics.parser.text_string_to_metric_families`.

The parsed families must agree: the same names, types, HELP texts and units, and the same
samples (name, labels as a dict, value compared bit for bit, any NaN equal to any NaN).
Order does not matter: neither the order of families (promlink sorts them by name, Python
keeps registration order) nor that of labels within a sample.

`_created` values are wall-clock times and differ between the two runs, so only their
presence is compared (and that they are plausible timestamps).

Exits 0 on parity, 1 with a diff on stderr otherwise, 2 when prometheus_client is missing.
"""

import sys
import time

from promlink_support import (
    EXIT_MISMATCH,
    EXIT_OK,
    read_exposition,
    require_prometheus_client,
    same_float,
    sample_key,
    show_float,
    show_key,
)

require_prometheus_client()

from prometheus_client import (  # noqa: E402  (after the check above, on purpose)
    CollectorRegistry,
    Counter,
    Enum,
    Gauge,
    Histogram,
    Info,
    Summary,
    generate_latest,
)
from prometheus_client.openmetrics.exposition import (  # noqa: E402
    generate_latest as openmetrics_generate_latest,
)
from prometheus_client.openmetrics.parser import (  # noqa: E402
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import (  # noqa: E402
    text_string_to_metric_families as parse_text,
)


def reference_scenario(r):
    """/work/shared/reference/python_client_scenario.py, statement for statement."""
    c = Counter("http_requests_total", "Total HTTP requests.", ["method", "code"], registry=r)
    c.labels(method="get", code="200").inc()
    c.labels("post", "500").inc(2.5)
    g = Gauge("temperature_celsius", "Current temperature.\nSecond line with \\ backslash.", registry=r)
    g.set(1)
    h = Histogram(
        "request_latency_seconds",
        "Request latency.",
        buckets=[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
        registry=r,
    )
    for v in (0.003, 0.07, 0.3, 0.3, 4.0, 7.0):
        h.observe(v)
    s = Summary("payload_bytes", "Payload size.", registry=r)
    s.observe(100)
    s.observe(250.5)
    i = Info("build", "Build information.", registry=r)
    i.info({"version": "1.2.3", "revision": 'abc"def\\x\ny'})
    e = Enum("task_state", "Task state.", states=["starting", "running", "stopped"], registry=r)
    e.state("running")
    g2 = Gauge("weird_values", "Special floats.", ["kind"], registry=r)
    g2.labels("pinf").set(float("inf"))
    g2.labels("ninf").set(float("-inf"))
    g2.labels("nan").set(float("nan"))
    g2.labels("big").set(1e21)
    g2.labels("small").set(1.5e-7)
    g2.labels("int").set(42)
    g2.labels("neg0").set(-0.0)
    g2.labels("tenth").set(0.1)
    g2.labels("third").set(1 / 3)
    g2.labels("e16").set(1e16)
    g2.labels("e15").set(123456789012345678)


def extended_scenario(r):
    """What the reference script leaves out: units, labelled histograms, summaries, infos
    and enums, untouched metrics, huge counts, quotes and tabs in HELP, escapes in labels.
    Mirrored by `extended_scenario` in tests/python_parity.rs."""
    sent = Counter("sent_bytes_total", 'Bytes "sent".', unit="bytes", registry=r)
    sent.inc(2**60)
    sent.inc()
    Counter("idle_total", "Never incremented.", registry=r)
    Info("empty", "Nothing set.", registry=r)
    deploy = Info("deploy", "Deploy.", ["region"], registry=r)
    deploy.labels("eu").info({"version": "x"})
    worker = Enum("worker_state", "Worker state.", ["worker"], states=["idle", "busy"], registry=r)
    worker.labels("w1").state("busy")
    worker.labels("w2")
    size = Histogram(
        "response_size_bytes",
        "Response size.",
        ["route"],
        unit="bytes",
        buckets=[1e-5, 0.001, 123456, 1.5e6],
        registry=r,
    )
    for v in (50, 1.5e6, 2e6):
        size.labels("/a").observe(v)
    size.labels("/b")
    rpc = Summary("rpc_seconds", "RPC time.", ["service"], unit="seconds", registry=r)
    rpc.labels("x")
    rpc.labels("y").observe(1e-9)
    rpc.labels("y").observe(0.25)
    escaped = Gauge("escaped_labels", 'Help with "quotes", a tab\tand ünïcödé.', ["value"], registry=r)
    escaped.labels("tab\there").set(1)
    escaped.labels('quote"backslash\\newline\n').set(2)
    escaped.labels("ünïcödé ✓").set(3)
    escaped.labels("").set(4)


def python_expositions():
    r = CollectorRegistry()
    reference_scenario(r)
    extended_scenario(r)
    return generate_latest(r).decode("utf-8"), openmetrics_generate_latest(r).decode("utf-8")


class Families:
    """Parsed families by name: (type, help, unit, {sample key: value})."""

    def __init__(self, label, parse, text, drop_created):
        self.label = label
        self.by_name = {}
        self.problems = []
        self.dropped_created = []
        for family in parse(text):
            # In 0.0.4 Python writes every `_created` as a gauge family of its own
            # (`http_requests_created`); promlink leaves them out, as Go's client does, so
            # the 0.0.4 comparison drops them from Python's side only, and checks below that
            # each belongs to a family promlink exposes. OpenMetrics compares them.
            if drop_created and family.name.endswith("_created"):
                self.dropped_created.append(family.name)
                continue
            if family.name in self.by_name:
                self.problems.append(f"{label}: family {family.name} appears twice")
            samples = {}
            for sample in family.samples:
                if drop_created and sample.name.endswith("_created"):
                    continue
                key = sample_key(sample)
                if key in samples:
                    self.problems.append(f"{label}: sample {show_key(key)} appears twice")
                if sample.timestamp is not None or sample.exemplar is not None:
                    self.problems.append(f"{label}: {show_key(key)} has a timestamp or exemplar")
                samples[key] = sample.value
            self.by_name[family.name] = (family.type, family.documentation, family.unit, samples)

    def count(self):
        return len(self.by_name), sum(len(f[3]) for f in self.by_name.values())


def plausible_created(value):
    """A `_created` value: a Unix time in seconds, not in the future, not before 2020."""
    return 1.577e9 < value <= time.time() + 60


def compare(fmt, python, promlink):
    """Every difference between the families Python and promlink expose, as text lines."""
    out = python.problems + promlink.problems
    for name in sorted(python.by_name.keys() - promlink.by_name.keys()):
        out.append(f"[{fmt}] family {name}: exposed by Python, missing from promlink")
    for name in sorted(promlink.by_name.keys() - python.by_name.keys()):
        out.append(f"[{fmt}] family {name}: exposed by promlink, not by Python")
    for name in sorted(python.by_name.keys() & promlink.by_name.keys()):
        py_type, py_help, py_unit, py_samples = python.by_name[name]
        pl_type, pl_help, pl_unit, pl_samples = promlink.by_name[name]
        for what, py, pl in (("type", py_type, pl_type), ("help", py_help, pl_help), ("unit", py_unit, pl_unit)):
            if py != pl:
                out.append(f"[{fmt}] family {name}: {what} {py!r} in Python, {pl!r} in promlink")
        for key in sorted(py_samples.keys() - pl_samples.keys()):
            out.append(f"[{fmt}] {show_key(key)}: exposed by Python ({py_samples[key]!r}), missing from promlink")
        for key in sorted(pl_samples.keys() - py_samples.keys()):
            out.append(f"[{fmt}] {show_key(key)}: exposed by promlink ({pl_samples[key]!r}), not by Python")
        for key in sorted(py_samples.keys() & pl_samples.keys()):
            py, pl = py_samples[key], pl_samples[key]
            if key[0].endswith("_created"):
                # Wall-clock times of two different runs: presence is what is compared.
                for who, value in (("Python", py), ("promlink", pl)):
                    if not plausible_created(value):
                        out.append(f"[{fmt}] {show_key(key)}: implausible _created time {value!r} from {who}")
            elif not same_float(py, pl):
                out.append(f"[{fmt}] {show_key(key)}: {show_float(py)} in Python, {show_float(pl)} in promlink")
    return out


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(f"usage: {argv[0]} PROMLINK_TEXT PROMLINK_OPENMETRICS\n")
        return EXIT_MISMATCH
    promlink_text, promlink_openmetrics = read_exposition(argv[1]), read_exposition(argv[2])
    python_text, python_openmetrics = python_expositions()

    problems = []
    summary = []
    for fmt, parse, python_out, promlink_out, drop_created in (
        ("text 0.0.4", parse_text, python_text, promlink_text, True),
        ("OpenMetrics", parse_openmetrics, python_openmetrics, promlink_openmetrics, False),
    ):
        try:
            python = Families(f"Python {fmt}", parse, python_out, drop_created)
        except Exception as error:
            problems.append(f"[{fmt}] Python's parser rejects Python's own output: {error!r}")
            continue
        try:
            promlink = Families(f"promlink {fmt}", parse, promlink_out, False)
        except Exception as error:
            problems.append(f"[{fmt}] Python's parser rejects promlink's output: {error!r}")
            continue
        found = compare(fmt, python, promlink)
        for name in python.dropped_created:
            if name[: -len("_created")] not in promlink.by_name:
                found.append(f"[{fmt}] Python's {name} belongs to no family promlink exposes")
        if found:
            found.append(f"--- promlink {fmt} ---\n{promlink_out}--- Python {fmt} ---\n{python_out}")
        problems += found
        families, samples = promlink.count()
        summary.append(f"{fmt}: {families} families, {samples} samples")

    if problems:
        sys.stderr.write("promlink and prometheus_client disagree:\n")
        for problem in problems:
            sys.stderr.write(f"  {problem}\n")
        return EXIT_MISMATCH
    sys.stderr.write(f"parity with prometheus_client: {'; '.join(summary)} compared\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv))
