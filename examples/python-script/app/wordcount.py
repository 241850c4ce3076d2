"""Count the words of a text file and print the most frequent ones as JSON (standard library only)."""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", help="the text file to read")
    parser.add_argument("--top", type=int, default=int(os.environ.get("TOP", "5")), help="how many words")
    options = parser.parse_args()
    try:
        with open(options.path, encoding="utf-8") as handle:
            words = re.findall(r"[a-z']+", handle.read().lower())
    except OSError as error:
        print(f"wordcount: {options.path}: {error.strerror}", file=sys.stderr)
        return 1
    counts = collections.Counter(words)
    report = {"file": options.path, "words": len(words), "distinct": len(counts),
              "top": [[word, count] for word, count in counts.most_common(options.top)]}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
