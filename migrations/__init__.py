"""The schema's history in Alembic migrations, installed as the package wallet_rpc.migrations."""
