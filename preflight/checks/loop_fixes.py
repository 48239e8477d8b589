"""The fix of the training-loop rules PF501-PF506: ``LoopFix``, a change to the loop itself, not to the
data (numpy only: no torch, no probes). ``preflight.probes.reference.loops`` trains each kind, as-is
and fixed, on reference data; findings in code carry that recorded evidence."""

from __future__ import annotations

from dataclasses import dataclass

from preflight.checks.fixes import Fix, Skip, Split, Variants

# What each loop rule's probe trains, as-is and fixed (``preflight.probes.reference.loops`` runs them).
LOOP_KINDS: dict[str, tuple[str, str]] = {
    "zero_grad": ("gradients never zeroed: every step applies the sum of all gradients so far",
                  "optimizer.zero_grad() every step"),
    "eval_mode": ("held-out loss measured in train mode (dropout and batch norm active) outside no_grad",
                  "held-out loss measured after model.eval(), under torch.no_grad()"),
    "loss_item": ("total += loss (the tensor) every iteration", "total += loss.item() every iteration"),
    "train_mode": ("model.eval() after the first epoch's evaluation and never model.train() again",
                   "model.train() at the start of every epoch"),
    "set_epoch": ("DistributedSampler without set_epoch(): the same shuffle every epoch",
                  "sampler.set_epoch(epoch) every epoch: a fresh shuffle each epoch"),
    "divide_loss": ("loss.backward() on each of k accumulated mini-batches, not divided by k",
                    "(loss / k).backward() on each of k accumulated mini-batches"),
}


@dataclass(frozen=True)
class LoopFix(Fix):
    """A change to the training loop itself (``kind``, a key of ``LOOP_KINDS``), not to the data: no
    transform of a table measures it, so its evidence is recorded once on reference data
    (``python -m preflight.probes.reference``) and a finding in code carries that."""

    kind: str
    transforms_columns = False

    @property
    def family(self) -> str:
        return f"loop:{self.kind}"

    @property
    def as_is(self) -> str:
        return LOOP_KINDS[self.kind][0]

    @property
    def fixed(self) -> str:
        return LOOP_KINDS[self.kind][1]

    def variants(self, s: Split) -> Variants:
        raise Skip(f"{self.fixed} is a change to the training loop, not to the data: no probe on a table "
                   "measures it; findings in code carry its evidence recorded on reference data")
