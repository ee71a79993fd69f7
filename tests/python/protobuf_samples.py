"""Decodes a protobuf exposition with Python's protobuf runtime and compares it with the
OpenMetrics exposition of the same registry, read by prometheus_client's parser.

Usage: protobuf_samples.py PROTOBUF_FILE OPENMETRICS_FILE [OBSERVATIONS_FILE]

The protobuf stream is length-delimited `io.prometheus.client.MetricFamily` messages,
decoded with classes that protoc (from grpcio-tools) generates from proto/metrics.proto.
Every sample either exposition has must be in the other with the same value (`_created`
within a microsecond: protobuf keeps it as seconds and nanoseconds).

Native histograms (histograms with a schema) are checked against the observations
file, lines `family value`: the buckets the protobuf stream decodes to must be those that
the observations fall in at the schema it states, computed here from the definition
(bucket k at schema s holds the magnitudes in (2^((k-1)/2^s), 2^(k/2^s)]) with 60-digit
decimals, and its count and sum those of the observations.

Prints one line per protobuf family, `name TYPE metric_count unit`, in stream order, and
one per native histogram, `native name schema S zero Z positive P negative N` (the
numbers of populated buckets).
Exits 0 when both agree, 1 (with the differences on stderr) when they do not, 2 when
prometheus_client, protobuf or grpcio-tools is missing.
"""

import math
import os
import sys
import tempfile
from collections import Counter, defaultdict
from decimal import Decimal, getcontext

from promlink_support import (
    EXIT_ENVIRONMENT,
    EXIT_MISMATCH,
    EXIT_OK,
    read_exposition,
    require_prometheus_client,
)

require_prometheus_client()

from prometheus_client.openmetrics.parser import (  # noqa: E402
    text_string_to_metric_families as parse_openmetrics,
)


def load_messages():
    """The generated module of proto/metrics.proto, compiled into a temporary directory."""
    try:
        from grpc_tools import protoc
    except ImportError:
        sys.stderr.write("grpcio-tools and protobuf are needed: python3 -m pip install grpcio-tools==1.85.1\n")
        sys.exit(EXIT_ENVIRONMENT)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "proto")
    out = tempfile.mkdtemp(prefix="promlink-proto-")
    if protoc.main(["protoc", f"-I{here}", f"--python_out={out}", "metrics.proto"]) != 0:
        sys.stderr.write("protoc could not compile proto/metrics.proto\n")
        sys.exit(EXIT_ENVIRONMENT)
    sys.path.insert(0, out)
    import metrics_pb2

    return metrics_pb2


def read_varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def decode_families(data, pb):
    families, at = [], 0
    while at < len(data):
        length, at = read_varint(data, at)
        family = pb.MetricFamily()
        family.ParseFromString(data[at : at + length])
        if family.ByteSize() != length:
            raise ValueError(f"{family.name}: {length} bytes announced, {family.ByteSize()} read")
        families.append(family)
        at += length
    return families


def seconds(timestamp):
    return timestamp.seconds + timestamp.nanos / 1e9


def canonical_labels(labels):
    # `le` and `quantile` compare as numbers: protobuf has no spelling for them.
    return frozenset((n, repr(float(v)) if n in ("le", "quantile") else v) for n, v in labels.items())


def exemplar_of(message):
    """(labels, value, timestamp) of an `Exemplar` message."""
    labels = tuple(sorted((pair.name, pair.value) for pair in message.label))
    return (labels, message.value, seconds(message.timestamp))


def decode_buckets(spans, deltas):
    """{index: count} of the populated buckets that spans and deltas describe."""
    buckets, index, count, deltas = {}, 0, 0, iter(deltas)
    for span in spans:
        index += span.offset
        for _ in range(span.length):
            count += next(deltas)
            if count < 0:
                raise ValueError(f"bucket {index}: negative count {count}")
            if count:
                buckets[index] = count
            index += 1
    if next(deltas, None) is not None:
        raise ValueError("more deltas than the spans cover")
    return buckets


def bucket_index(magnitude, schema):
    """The smallest k with magnitude <= 2^(k / 2^schema), from the definition."""
    getcontext().prec = 60
    width = Decimal(2) ** schema
    exact = Decimal(magnitude)

    def bound(k):
        return Decimal(2) ** (Decimal(k) / width)

    k = math.ceil(math.log2(magnitude) * 2.0**schema)
    while exact <= bound(k - 1):
        k -= 1
    while exact > bound(k):
        k += 1
    return k


def check_native(family, h, observed):
    """Differences between a native histogram and its observations."""
    positive = decode_buckets(h.positive_span, h.positive_delta)
    negative = decode_buckets(h.negative_span, h.negative_delta)
    expected = {1: Counter(), -1: Counter()}
    zero = 0
    for value in observed:
        if abs(value) <= h.zero_threshold:
            zero += 1
        else:
            expected[1 if value > 0 else -1][bucket_index(abs(value), h.schema)] += 1
    differences = []
    for side, decoded in ((1, positive), (-1, negative)):
        if decoded != dict(expected[side]):
            differences.append(f"{family} side {side} at schema {h.schema}: {decoded} != {dict(expected[side])}")
    if h.zero_count != zero:
        differences.append(f"{family}: zero bucket {h.zero_count}, {zero} observed")
    if h.sample_count != len(observed) or not math.isclose(h.sample_sum, sum(observed), rel_tol=1e-12, abs_tol=1e-12):
        differences.append(f"{family}: count {h.sample_count} sum {h.sample_sum}, observed {len(observed)} {sum(observed)}")
    if not (positive or negative or h.zero_threshold or h.zero_count or len(h.positive_span)):
        differences.append(f"{family}: an empty native histogram needs a span to be one")
    summary = f"native {family} schema {h.schema} zero {h.zero_count} positive {len(positive)} negative {len(negative)}"
    return summary, differences


def native_histograms(families, observations):
    """The summary lines and the differences of every histogram that has a schema."""
    lines, differences = [], []
    for family in families:
        for metric in family.metric:
            h = metric.histogram
            if family.type == 4 and (h.HasField("schema") or h.zero_threshold or h.positive_span):
                line, wrong = check_native(family.name, h, observations.get(family.name, []))
                lines.append(line)
                differences += wrong
    return lines, differences


def read_observations(path):
    observations = defaultdict(list)
    with open(path) as f:
        for line in f:
            family, value = line.split()
            observations[family].append(float(value))
    return observations


def protobuf_samples(families, pb):
    """(sample name, labels) -> value, as the OpenMetrics parser names samples, and
    (sample name, labels) -> exemplar for the samples that have one."""
    samples, exemplars = {}, {}
    for family in families:
        kind = pb.MetricType.Name(family.type)
        base = family.name[: -len("_total")] if kind == "COUNTER" else family.name
        for metric in family.metric:
            labels = {pair.name: pair.value for pair in metric.label}

            def put(name, value, extra=None, exemplar=None):
                key = (name, canonical_labels({**labels, **(extra or {})}))
                if key in samples:
                    raise ValueError(f"{name}{labels} twice in the protobuf exposition")
                samples[key] = value
                if exemplar is not None:
                    exemplars[key] = exemplar_of(exemplar)

            if kind == "COUNTER":
                exemplar = metric.counter.exemplar if metric.counter.HasField("exemplar") else None
                put(family.name, metric.counter.value, exemplar=exemplar)
                if metric.counter.HasField("created_timestamp"):
                    put(base + "_created", seconds(metric.counter.created_timestamp))
            elif kind == "GAUGE":
                put(family.name, metric.gauge.value)
            elif kind == "UNTYPED":
                put(family.name, metric.untyped.value)
            elif kind == "SUMMARY":
                for q in metric.summary.quantile:
                    put(family.name, q.value, {"quantile": str(q.quantile)})
                put(base + "_count", float(metric.summary.sample_count))
                put(base + "_sum", metric.summary.sample_sum)
                if metric.summary.HasField("created_timestamp"):
                    put(base + "_created", seconds(metric.summary.created_timestamp))
            elif kind == "HISTOGRAM":
                h = metric.histogram
                for bucket in h.bucket:
                    exemplar = bucket.exemplar if bucket.HasField("exemplar") else None
                    put(base + "_bucket", float(bucket.cumulative_count), {"le": str(bucket.upper_bound)}, exemplar)
                if not h.bucket or h.bucket[-1].upper_bound != math.inf:
                    put(base + "_bucket", float(h.sample_count), {"le": "+Inf"})
                put(base + "_count", float(h.sample_count))
                put(base + "_sum", h.sample_sum)
                if h.HasField("created_timestamp"):
                    put(base + "_created", seconds(h.created_timestamp))
            else:
                raise ValueError(f"{family.name}: unexpected type {kind}")
    return samples, exemplars


def openmetrics_samples(text):
    samples, exemplars = {}, {}
    for family in parse_openmetrics(text):
        for sample in family.samples:
            key = (sample.name, canonical_labels(sample.labels))
            samples[key] = sample.value
            if sample.exemplar is not None:
                e = sample.exemplar
                labels = tuple(sorted(e.labels.items()))
                exemplars[key] = (labels, e.value, float(e.timestamp))
    return samples, exemplars


def same(name, ours, theirs):
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if name.endswith("_created"):
        return abs(ours - theirs) < 1e-6
    return ours == theirs


def main():
    pb = load_messages()
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    try:
        families = decode_families(data, pb)
        from_protobuf, protobuf_exemplars = protobuf_samples(families, pb)
    except Exception as error:
        sys.stderr.write(f"the protobuf exposition did not decode: {error!r}\n")
        return EXIT_MISMATCH
    from_openmetrics, openmetrics_exemplars = openmetrics_samples(read_exposition(sys.argv[2]))
    differences = []
    for key in sorted(set(protobuf_exemplars) | set(openmetrics_exemplars), key=repr):
        ours, theirs = protobuf_exemplars.get(key), openmetrics_exemplars.get(key)
        agree = (
            ours is not None
            and theirs is not None
            and ours[:2] == theirs[:2]
            and abs(ours[2] - theirs[2]) < 1e-6
        )
        if not agree:
            differences.append(f"exemplar of {key[0]} {sorted(key[1])}: protobuf {ours}, OpenMetrics {theirs}")
    print("exemplars", len(protobuf_exemplars))
    for key in sorted(set(from_protobuf) | set(from_openmetrics), key=repr):
        ours, theirs = from_protobuf.get(key), from_openmetrics.get(key)
        if ours is None or theirs is None or not same(key[0], ours, theirs):
            differences.append(f"{key[0]} {sorted(key[1])}: protobuf {ours}, OpenMetrics {theirs}")
    for family in families:
        unit = family.unit if family.HasField("unit") else "-"
        print(family.name, pb.MetricType.Name(family.type), len(family.metric), unit)
    observations = read_observations(sys.argv[3]) if len(sys.argv) > 3 else {}
    native_lines, native_differences = native_histograms(families, observations)
    print("\n".join(native_lines))
    differences += native_differences
    if differences:
        sys.stderr.write("\n".join(differences) + "\n")
        return EXIT_MISMATCH
    return EXIT_OK


sys.exit(main())
