"""Checkout shortcut for ``mjx-train`` (:mod:`mjx_myoassist.train`): ``python train_mjx.py --config test``."""

import sys

from mjx_myoassist.train import main

if __name__ == "__main__":
    sys.exit(main())
