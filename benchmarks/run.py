"""Run every benchmark: ``python -m benchmarks.run [--quick] [NAME ...]``.

Each ``benchmarks/bench_<name>.py`` prints its table and writes
``benchmarks/results/<table>.md`` and ``.csv``; all ratios are measured within one run.
"""

import argparse
import importlib
import pkgutil
from pathlib import Path


def available():
    folder = Path(__file__).resolve().parent
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(folder)])
                  if m.name.startswith("bench_"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced sizes")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default all: {', '.join(available())})")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(available())
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {available()}")
    for name in args.names or available():
        print(f"### {name}", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main(quick=args.quick)


if __name__ == "__main__":
    main()
