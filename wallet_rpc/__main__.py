"""`python -m wallet_rpc`: the `wallet-rpc` command line."""

import sys

from wallet_rpc.cli import main

sys.exit(main())
