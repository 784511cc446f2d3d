"""Reads `cartwright serve`'s /metrics (Prometheus text format) for the bench scripts.

  counter(text, name)                     the sum of a counter family over its labels
  quantiles(before, after, name, qs)      quantiles of what a histogram observed between two scrapes,
                                          interpolated linearly inside the bucket (so as exact as the
                                          buckets are narrow)
"""
import math
import re

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def samples(text):
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            yield m.group(1), m.group(2) or "", float(m.group(3))


def counter(text, name):
    return sum(v for n, _, v in samples(text) if n == name or n == name + "_total")


def buckets(text, name):
    out = {}
    for n, labels, v in samples(text):
        if n == name + "_bucket":
            le = re.search(r'le="([^"]+)"', labels).group(1)
            bound = math.inf if le == "+Inf" else float(le)
            out[bound] = out.get(bound, 0) + v
    return sorted(out.items())


def last_bound(text, name):
    """The highest finite bucket bound of a histogram."""
    return max(b for b, _ in buckets(text, name) if not math.isinf(b))


def quantiles(before, after, name, qs):
    """(count, {q: seconds}) of the observations made between the two scrapes; a quantile beyond
    the last finite bucket is math.inf."""
    b0 = dict(buckets(before, name)) if before else {}
    cum = [(bound, v - b0.get(bound, 0)) for bound, v in buckets(after, name)]
    total = cum[-1][1] if cum else 0
    result = {}
    for q in qs:
        if total == 0:
            result[q] = float("nan")
            continue
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, c in cum:
            if c >= rank:
                if math.isinf(bound):
                    result[q] = math.inf  # beyond the last bucket: only a lower bound is known
                else:
                    share = (rank - lower_count) / (c - lower_count) if c > lower_count else 1.0
                    result[q] = lower_bound + share * (bound - lower_bound)
                break
            lower_bound, lower_count = bound, c
    return total, result
