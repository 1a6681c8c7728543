#!/usr/bin/env python3
"""Parses Prometheus text format from the file named by the first argument (else stdin) with prometheus_client's parser (the reference Python
implementation) and prints one JSON document: {"samples": [{"name", "labels", "value"}], "types": {family: type}}.
Exits non-zero, with the parser's error, if the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else sys.stdin.read()
samples = []
types = {}
for family in text_string_to_metric_families(text):
    types[family.name] = family.type
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": dict(sample.labels), "value": sample.value})
json.dump({"samples": samples, "types": types}, sys.stdout)
