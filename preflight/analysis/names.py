"""Qualified names and the torch vocabulary: what a resolved name means to the checks.

A name in a file resolves through its module's imports to a qualified name (as torchfix's
``common.py``, ``get_qualified_name_for_call``); ``canonical`` folds the private module paths torch
and lightning re-export (``torch.nn.modules.loss.BCELoss``) into the public spelling
(``torch.nn.BCELoss``), and the tables below say what each public name does. The live-object reader
(``preflight.inputs.torch_model``) uses the same tables, so a static and a live finding agree on
what a sigmoid or a BCE loss is.
"""

from __future__ import annotations

import re

_PREFIX_ALIASES = (
    ("torch.nn.modules.loss.", "torch.nn."),
    ("torch.nn.modules.activation.", "torch.nn."),
    ("torch.nn.modules.container.", "torch.nn."),
    ("torch.nn.modules.linear.", "torch.nn."),
    ("torch.nn.modules.module.", "torch.nn."),
    ("torch.nn.modules.", "torch.nn."),
    ("torch.utils.data.dataloader.", "torch.utils.data."),
    ("torch.utils.data.dataset.", "torch.utils.data."),
    ("torch.utils.data.sampler.", "torch.utils.data."),
    ("torch.utils.data.distributed.", "torch.utils.data."),
    ("pytorch_lightning.", "lightning.pytorch."),
    ("lightning.pytorch.core.datamodule.", "lightning.pytorch."),
    ("lightning.pytorch.core.module.", "lightning.pytorch."),
    ("lightning.pytorch.core.", "lightning.pytorch."),
    ("lightning.LightningModule", "lightning.pytorch.LightningModule"),
    ("lightning.LightningDataModule", "lightning.pytorch.LightningDataModule"),
    ("lightning.Trainer", "lightning.pytorch.Trainer"),
)
_SHORT_PREFIXES = (("torch.nn.functional.", "F."), ("torch.nn.", "nn."), ("torch.special.", "torch.special."))

TORCH_ROOTS = ("torch", "lightning", "pytorch_lightning")  # importing one makes a file a training script


def canonical(qualname: str) -> str:
    """The public spelling of a qualified name (``torch.nn.modules.loss.BCELoss`` -> ``torch.nn.BCELoss``)."""
    for old, new in _PREFIX_ALIASES:
        if qualname.startswith(old):
            return new + qualname[len(old):]
    return qualname


def short(qualname: str) -> str:
    """The name as a user writes it: ``torch.nn.functional.softmax`` -> ``F.softmax``."""
    for prefix, abbrev in _SHORT_PREFIXES:
        if qualname.startswith(prefix):
            return abbrev + qualname[len(prefix):]
    return qualname


def imports_torch(module: str) -> bool:
    return module.split(".")[0] in TORCH_ROOTS


# --- activations -------------------------------------------------------------------------------

SIGMOID, SOFTMAX, LOG_SOFTMAX = "sigmoid", "softmax", "log_softmax"

ACTIVATION_FUNCS = {
    "torch.sigmoid": SIGMOID,
    "torch.nn.functional.sigmoid": SIGMOID,
    "torch.special.expit": SIGMOID,
    "torch.Tensor.sigmoid": SIGMOID,
    "torch.softmax": SOFTMAX,
    "torch.nn.functional.softmax": SOFTMAX,
    "torch.special.softmax": SOFTMAX,
    "torch.Tensor.softmax": SOFTMAX,
    "torch.log_softmax": LOG_SOFTMAX,
    "torch.nn.functional.log_softmax": LOG_SOFTMAX,
    "torch.special.log_softmax": LOG_SOFTMAX,
    "torch.Tensor.log_softmax": LOG_SOFTMAX,
}
ACTIVATION_METHODS = {"sigmoid": SIGMOID, "sigmoid_": SIGMOID, "softmax": SOFTMAX, "log_softmax": LOG_SOFTMAX}
ACTIVATION_MODULES = {
    "torch.nn.Sigmoid": SIGMOID,
    "torch.nn.Softmax": SOFTMAX,
    "torch.nn.Softmax2d": SOFTMAX,
    "torch.nn.LogSoftmax": LOG_SOFTMAX,
}
# The torch.nn class a message names for each activation.
ACTIVATION_MODULE_NAMES = {SIGMOID: "Sigmoid", SOFTMAX: "Softmax", LOG_SOFTMAX: "LogSoftmax"}

# --- losses ------------------------------------------------------------------------------------

BCE, BCE_LOGITS, CE, NLL, OTHER_LOSS = "bce", "bce_logits", "ce", "nll", "other"
LOSS_MODULES = {
    "torch.nn.BCELoss": BCE,
    "torch.nn.BCEWithLogitsLoss": BCE_LOGITS,
    "torch.nn.CrossEntropyLoss": CE,
    "torch.nn.NLLLoss": NLL,
}
LOSS_FUNCS = {
    "torch.nn.functional.binary_cross_entropy": BCE,
    "torch.nn.functional.binary_cross_entropy_with_logits": BCE_LOGITS,
    "torch.binary_cross_entropy_with_logits": BCE_LOGITS,
    "torch.nn.functional.cross_entropy": CE,
    "torch.nn.functional.nll_loss": NLL,
}
# Other torch.nn losses: known, never paired (Sigmoid + MSELoss is a choice, not a bug).
OTHER_LOSS_RE = re.compile(r"^torch\.nn\.(\w+Loss)$|^torch\.nn\.functional\.\w+_loss$")

# --- gradients off --------------------------------------------------------------------------------

# Context managers and decorators under which nothing is trained (``with torch.no_grad():``).
NO_GRAD = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
                     "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode"})
SET_GRAD = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled",
                      "torch.autograd.grad_mode.set_grad_enabled"})

# --- what keeps a value, what wraps a model, what loads data -----------------------------------

# Calls and methods that keep a tensor's values (its activation) as they are.
SHAPE_METHODS = frozenset({
    "view", "reshape", "squeeze", "unsqueeze", "flatten", "float", "double", "half", "bfloat16", "to",
    "contiguous", "type", "type_as", "permute", "transpose", "clone", "cpu", "cuda", "view_as",
    "reshape_as", "clamp", "clamp_", "clip", "squeeze_", "unsqueeze_", "t",
})
SHAPE_FUNCS = frozenset({
    "torch.squeeze", "torch.unsqueeze", "torch.flatten", "torch.reshape", "torch.clamp", "torch.clip",
    "torch.permute", "torch.transpose",
})
# Methods of a module that return the module itself.
MODULE_SELF_METHODS = frozenset({"to", "cuda", "cpu", "train", "eval", "float", "double", "half",
                                 "requires_grad_", "type", "bfloat16"})

# The cheap text test: a file can hold a finding only when it names a framework and one of the
# losses the PF3xx rules pair, a DataLoader (PF203, PF502-PF505) or a DistributedSampler (PF505), or
# calls both backward() and step() (a training loop PF501-PF506 judge, over tensors and not a
# loader). A file read from a folder that passes neither is not parsed
# (``preflight.inputs.pysource.might_hold_finding``). The words are plain text, searched with
# ``in`` (several times faster than a regex alternation over the 46 MB of the torch package).
FRAMEWORK_TEXT_RE = re.compile(rb"\b(?:torch|lightning|pytorch_lightning|ignite|transformers)\b")
TRAINING_TEXTS = (b"BCELoss", b"BCEWithLogitsLoss", b"CrossEntropyLoss", b"NLLLoss", b"cross_entropy", b"nll_loss",
                  b"DataLoader", b"DistributedSampler")
BACKWARD_TEXT = b".backward("
STEP_TEXT = b".step("

SEQUENTIAL = "torch.nn.Sequential"
DATALOADER = "torch.utils.data.DataLoader"
ITERABLE_DATASET = "torch.utils.data.IterableDataset"
# Calls that return the module they wrap (its output is the wrapped module's).
WRAPPERS = frozenset({
    "torch.nn.DataParallel", "torch.nn.parallel.DataParallel", "torch.nn.parallel.DistributedDataParallel",
    "torch.nn.parallel.distributed.DistributedDataParallel", "torch.nn.parallel.data_parallel.DataParallel",
    "torch.compile", "torch.jit.script", "torch.nn.SyncBatchNorm.convert_sync_batchnorm",
    "torch.distributed.fsdp.FullyShardedDataParallel", "apex.parallel.DistributedDataParallel",
    "apex.parallel.convert_syncbn_model",
})
# ``nn.parallel.data_parallel(module, input)``: the module applied to the input.
APPLY_FUNCS = frozenset({"torch.nn.parallel.data_parallel", "torch.nn.parallel.data_parallel.data_parallel"})
# Objects whose methods return the module(s) they are given: ``fabric.setup(model, opt)``,
# ``accelerator.prepare(model, opt, loader)``.
SETUP_OWNERS = ("lightning.Fabric", "lightning.fabric.Fabric", "lightning_fabric.Fabric", "accelerate.Accelerator")
SETUP_METHODS = frozenset({"setup", "setup_module", "prepare", "prepare_model", "setup_dataloaders",
                           "prepare_data_loader"})
TORCH_LOAD = "torch.load"
# Library models whose head a script replaces (``model.fc = nn.Sequential(..., nn.Sigmoid())``).
LIBRARY_MODELS = ("torchvision.models.", "timm.create_model", "timm.models.")
HEAD_ATTRS = frozenset({"fc", "classifier", "head", "heads", "last_linear"})
# Library training loops given a model and a loss together.
SUPERVISED_TRAINERS = frozenset({"ignite.engine.create_supervised_trainer",
                                 "ignite.engine.engine.create_supervised_trainer"})
HF_TRAINERS = frozenset({"transformers.Trainer", "transformers.trainer.Trainer"})
ITERABLE_DATASETS = (
    "torch.utils.data.IterableDataset", "torch.utils.data.ChainDataset", "torch.utils.data.IterDataPipe",
    "torch.utils.data.datapipes", "torchdata", "webdataset", "datasets.IterableDataset",
    "datasets.iterable_dataset", "torchtext.datasets",
)
