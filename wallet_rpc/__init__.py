"""wallet-rpc: a Mina wallet served as a JSON-RPC 2.0 server; the package holds its version."""

__version__ = "0.1.0"
