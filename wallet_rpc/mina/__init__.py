"""Mina primitives: Pallas field and curve, B62 keys, Poseidon, Schnorr signatures.

A leaf package: it imports nothing else from wallet_rpc.
"""
