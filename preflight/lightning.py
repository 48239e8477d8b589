"""``from preflight.lightning import PreflightCallback`` (needs ``pip install 'pytorch-preflight[lightning]'``)."""

from preflight.integrations.lightning import PreflightCallback, find_loss

__all__ = ["PreflightCallback", "find_loss"]
