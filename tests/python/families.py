"""Reads an exposition with prometheus_client's own parser and prints its families.

Usage: families.py FORMAT FILE, FORMAT being `text` (0.0.4) or `openmetrics` (1.0).

Prints one line per family, `name type sample_count`, sorted by name. Exits 0 when the
parser read the whole file, 1 (with the parser's error on stderr) when it refused it, 2
when prometheus_client is missing.
"""

import sys

from promlink_support import (
    EXIT_MISMATCH,
    EXIT_OK,
    read_exposition,
    require_prometheus_client,
)

require_prometheus_client()

from prometheus_client.openmetrics.parser import (  # noqa: E402
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import (  # noqa: E402
    text_string_to_metric_families as parse_text,
)


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    parse = {"text": parse_text, "openmetrics": parse_openmetrics}[fmt]
    try:
        families = list(parse(read_exposition(path)))
    except Exception as error:  # the parser's refusal, whatever its type
        sys.stderr.write(f"prometheus_client refused the {fmt} exposition: {error!r}\n")
        return EXIT_MISMATCH
    for family in sorted(families, key=lambda f: f.name):
        print(family.name, family.type, len(family.samples))
    return EXIT_OK


sys.exit(main())
