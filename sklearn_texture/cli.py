"""The ``sklearn-texture`` command line."""

import argparse
import sys

from sklearn_texture import __version__


def build_parser():
    """Return the argument parser of ``sklearn-texture`` (sub-commands register here)."""
    parser = argparse.ArgumentParser(
        prog="sklearn-texture",
        description="Texture vectors and low-dimensional maps of micrographs "
        "(Lubbers, Lookman & Barros 2017).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv=None):
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except (ValueError, OSError, RuntimeError) as error:
        # One readable line, not a traceback: these are the user's inputs going wrong.
        print(f"sklearn-texture: error: {error}", file=sys.stderr)
        return 1
