"""The wallet's use cases: its rules, consent, origins, credentials, verification."""
