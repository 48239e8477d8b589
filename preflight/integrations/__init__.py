"""Optional integrations (extras), imported only when used: ``preflight.lightning``."""
