"""JSON-RPC 2.0: the envelope, batches, dispatch and the mapping of errors."""
