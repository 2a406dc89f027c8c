"""``python -m sklearn_texture`` runs the ``sklearn-texture`` command."""

import sys

from sklearn_texture.cli import main

if __name__ == "__main__":
    sys.exit(main())
