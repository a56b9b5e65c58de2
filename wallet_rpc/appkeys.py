"""Every typed key of the aiohttp application, in one place."""

from __future__ import annotations

from aiohttp import web

from wallet_rpc.config import Config
from wallet_rpc.rpc.envelope import Envelope
from wallet_rpc.rpc.observe import CallMetrics
from wallet_rpc.service.overview import WalletOverview
from wallet_rpc.service.prompt import PromptApprover
from wallet_rpc.service.store_status import StoreStatus
from wallet_rpc.service.wallet import WalletService

CONFIG = web.AppKey("config", Config)
# Health and counts of the store, for /healthz and /metrics.
STORE_STATUS = web.AppKey("store_status", StoreStatus)
WALLET = web.AppKey("wallet", WalletService)
ENVELOPE = web.AppKey("envelope", Envelope)
# Waiting approvals, and the token the approval page's forms must carry.
APPROVALS = web.AppKey("approvals", PromptApprover)
APPROVAL_FORM_TOKEN = web.AppKey("approval_form_token", str)
METRICS = web.AppKey("metrics", CallMetrics)
# What the wallet's own page reads and does.
WALLET_OVERVIEW = web.AppKey("wallet_overview", WalletOverview)
