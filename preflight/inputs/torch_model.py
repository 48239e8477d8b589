"""A live model and loss -> ``ModelFacts`` and a loss kind, for ``preflight.inputs.torch_objects``.

The loss is named by the same vocabulary as the static analysis (``preflight.analysis.names``), so
``nn.BCELoss()`` passed live and ``nn.BCELoss()`` written in a script are the same loss to the checks.
The model's output activation is read from one forward pass (hooks on its activation modules, then
the range of its output) or, failing that, from the tail of its ``Sequential`` tree.
"""

from __future__ import annotations

from typing import Any

from preflight.analysis import names
from preflight.inputs.subject import ModelFacts

_CLASS_OF = names.ACTIVATION_MODULE_NAMES  # sigmoid -> "Sigmoid"
LABEL_KEYS = ("label", "labels", "target", "targets", "y", "class", "class_label")
INPUT_KEYS = ("input", "inputs", "x", "image", "images", "img", "features", "pixel_values", "input_ids", "data")
_RANGE_EVIDENCE = {
    names.SIGMOID: "a forward pass on one batch gave outputs all within (0, 1)",
    names.SOFTMAX: "a forward pass on one batch gave rows that sum to 1",
    names.LOG_SOFTMAX: "a forward pass on one batch gave rows whose exp sums to 1",
}
_PASSTHROUGH = ("Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Flatten", "Unflatten")


def _public_name(module: Any, qualname: str) -> Any:
    """The object ``qualname`` names in ``module`` (``torch.nn.BCELoss`` in ``torch.nn``)."""
    return getattr(module, qualname.rsplit(".", 1)[-1])


def describe_loss(loss: Any) -> tuple[str | None, str | None]:
    """The loss kind (``names.BCE``, ...) and how it is written (``nn.BCELoss``), or (None, None)."""
    import torch.nn as nn
    import torch.nn.functional as F

    for qual, kind in names.LOSS_MODULES.items():
        if isinstance(loss, _public_name(nn, qual)):
            return kind, names.short(qual)
    for qual, kind in names.LOSS_FUNCS.items():
        if qual.startswith("torch.nn.functional.") and loss is _public_name(F, qual):
            return kind, names.short(qual)
    if isinstance(loss, nn.Module) and type(loss).__name__.endswith("Loss"):
        return names.OTHER_LOSS, f"nn.{type(loss).__name__}"
    return None, None


def describe_model(model: Any, batch: Any, notes: list[str]) -> ModelFacts:
    import torch

    facts = ModelFacts(name=type(model).__name__)
    tree_act, tree_width = _tree_tail(model)
    x = batch_input(batch)
    out = None
    # the output tensor of every activation module, held (not just its id, which a freed tensor's
    # successor could reuse) so the model's output can be matched by identity
    hooked: dict[int, tuple[Any, str]] = {}
    if x is not None:
        handles = []
        for mod in model.modules():
            kind = _module_activation(mod)
            if kind is not None:
                handles.append(mod.register_forward_hook(
                    lambda m, i, o, kind=kind: hooked.__setitem__(id(o), (o, kind))
                    if isinstance(o, torch.Tensor) else None))
        modes = {m: m.training for m in model.modules()}
        try:
            model.eval()
            with torch.no_grad():
                out = model(_to_device(x, model))
            facts.forward_ok = True
        except Exception as exc:
            notes.append(f"the forward pass on one batch failed ({type(exc).__name__}: {first_line(exc)}); "
                         "the output activation was read from the module tree only")
            out = None
        finally:
            for m, mode in modes.items():
                m.training = mode
            for h in handles:
                h.remove()
    elif batch is None:
        notes.append("no batch to run the model on; the output activation was read from the module tree only")
    else:
        notes.append("no model input found in the batch (a tuple (x, y) or a dict with an input/x/image key is "
                      "expected); the output activation was read from the module tree only")
    y = _output_tensor(out) if out is not None else None
    if y is not None:
        tensor, seen_kind = hooked.get(id(y), (None, None))
        if tensor is not y:
            seen_kind = None
        rng_kind = _range_activation(y)
        facts.width = 1 if y.ndim == 1 else (int(y.shape[1]) if y.ndim >= 2 else None)
        if seen_kind is not None:
            facts.activation, facts.evidence = seen_kind, f"the output is the output of an nn.{_CLASS_OF[seen_kind]}"
        elif rng_kind is not None:
            facts.activation = rng_kind
            facts.evidence = _RANGE_EVIDENCE[rng_kind]
            if tree_act == rng_kind:
                facts.evidence = f"its last module is nn.{_CLASS_OF[rng_kind]} and " + facts.evidence
    else:
        facts.width = tree_width
        if tree_act is not None:
            facts.activation, facts.evidence = tree_act, f"its Sequential ends with nn.{_CLASS_OF[tree_act]}"
    return facts


def _module_activation(mod: Any) -> str | None:
    import torch.nn as nn

    for qual, kind in names.ACTIVATION_MODULES.items():
        if isinstance(mod, _public_name(nn, qual)):
            return kind
    return None


def _tree_tail(model: Any) -> tuple[str | None, int | None]:
    """The activation a Sequential ends with, and the out_features of its last Linear."""
    import torch.nn as nn

    act, width = None, None
    mod = model
    while isinstance(mod, nn.Sequential) and len(mod):
        children = [c for c in mod if type(c).__name__ not in _PASSTHROUGH]
        if not children:
            break
        last = children[-1]
        if act is None and _module_activation(last) is not None:
            act = _module_activation(last)
            rest = list(children[:-1])
            for c in reversed(rest):
                if isinstance(c, nn.Linear):
                    width = c.out_features
                    break
            break
        if isinstance(last, nn.Linear):
            width = last.out_features
            break
        mod = last
    return act, width


def _range_activation(y: Any) -> str | None:
    import torch

    if not torch.is_floating_point(y) or y.numel() < 8 or not torch.isfinite(y).all():
        return None
    y = y.float()
    if y.ndim >= 2 and y.shape[1] >= 2:
        sums = y.sum(dim=1)
        if (y >= 0).all() and torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            return names.SOFTMAX
        if (y <= 0).all():
            lse = torch.logsumexp(y, dim=1)
            if torch.allclose(lse, torch.zeros_like(lse), atol=1e-4):
                return names.LOG_SOFTMAX
    if (y > 0).all() and (y < 1).all() and y.unique().numel() > 1:
        return names.SIGMOID
    return None


def batch_input(batch: Any) -> Any:
    if batch is None:
        return None
    if isinstance(batch, (tuple, list)):
        return batch[0] if batch else None
    if isinstance(batch, dict):
        keys = {str(k).lower(): k for k in batch}
        key = next((keys[k] for k in INPUT_KEYS if k in keys), None)
        return batch[key] if key is not None else None
    if hasattr(batch, "shape"):
        return batch
    return None


def _output_tensor(out: Any) -> Any:
    import torch

    if isinstance(out, torch.Tensor):
        return out
    logits = getattr(out, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    if isinstance(out, dict):
        for k in ("logits", "out", "output", "y_hat", "pred"):
            if isinstance(out.get(k), torch.Tensor):
                return out[k]
        return None
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    return None


def _to_device(x: Any, model: Any) -> Any:
    try:
        device = next(model.parameters()).device
    except StopIteration:
        return x
    if hasattr(x, "to"):
        return x.to(device)
    return x


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, cut to 200 characters."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
