# wallet-rpc as a container, e.g. a sidecar next to a backend service.
#
#   docker build -t wallet-rpc .
#   docker run -p 8787:8787 wallet-rpc
#
# Configuration: WALLET_RPC_<SECTION>_<KEY> variables (WALLET_RPC_DATABASE_URL=...,
# WALLET_RPC_SECURITY_ALLOWED_ORIGINS='["https://app.example"]'), over a TOML file
# mounted anywhere and named by WALLET_RPC_CONFIG. See docs/deployment.md.
# tests/test_image.py performs these steps outside Docker and runs the CMD below.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/wallet-rpc \
    PATH=/opt/wallet-rpc/bin:$PATH

# The virtualenv the server runs from, and an unprivileged user whose home holds
# the default SQLite database.
RUN python -m venv /opt/wallet-rpc \
    && useradd --system --uid 10001 --user-group --home-dir /data --create-home wallet-rpc

WORKDIR /opt/wallet-rpc/src
COPY pyproject.toml README.md constraints.txt ./
COPY wallet_rpc ./wallet_rpc
COPY migrations ./migrations
# PIP_CONSTRAINT (not --constraint) also pins the build backend in pip's isolated build.
RUN PIP_CONSTRAINT=/opt/wallet-rpc/src/constraints.txt pip install --no-cache-dir /opt/wallet-rpc/src

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]

ENV WALLET_RPC_SERVER_HOST=0.0.0.0 \
    WALLET_RPC_SERVER_PORT=8787 \
    WALLET_RPC_DATABASE_URL=sqlite+aiosqlite:////data/wallet.db
EXPOSE 8787

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "wallet_rpc.healthcheck"]

# Exec form: the server is PID 1 and gets SIGTERM itself; it finishes in-flight
# requests and exits 0 within Docker's 10 s grace period.
STOPSIGNAL SIGTERM
CMD ["wallet-rpc", "serve"]
