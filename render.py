"""Checkout shortcut for ``mjx-render`` (:mod:`mjx_myoassist.render`): ``python render.py <session>``."""

import sys

from mjx_myoassist.render import main

if __name__ == "__main__":
    sys.exit(main())
