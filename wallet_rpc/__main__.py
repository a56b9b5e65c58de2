import sys

from wallet_rpc.cli import main

sys.exit(main())
