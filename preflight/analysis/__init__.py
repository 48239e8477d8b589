"""Static Python analysis: what a training script does with its loader, model and loss, read from
its AST.

Nothing here imports or runs the code it reads, and nothing here imports the rest of preflight
(the checks import it). Names resolve through the module's imports to qualified names (as
torchfix's ``get_qualified_name_for_call``), so ``import torch.nn as nn``, ``from torch.nn import
BCELoss`` and ``import torch.nn.functional as F`` resolve, and a local class called ``BCELoss`` or
``import torch.nn as F`` does not fool it.

Values are followed within one module by a small abstract interpreter:

* every expression evaluates to a ``Val`` (``values``);
* statements run in order, so softmax applied *after* the loss does not reach it; the branches of an
  ``if`` join, and a value survives a join only when every branch agrees (a must-analysis: a model
  that returns logits in training and probabilities in eval is not reported);
* ``self.`` attributes come from every assignment in the class (an attribute assigned two
  different things is unknown), ``forward`` and helper methods are followed with their arguments,
  and module-level functions are followed from their call sites (a bounded number of levels).

Cross-file flow is out of scope: a model imported from another file is unknown, and unknown values
never produce a finding. The measured facts (``LossPair``, ``LoaderFact``) are judged by
``preflight.checks.activation`` and ``preflight.checks.loader``.

Modules, by concern:

* ``names``: qualified-name canonicalisation and the torch vocabulary (activations, losses, loaders);
* ``values``: the abstract values and their join;
* ``scope``: frames, scopes, local classes and functions (the semantic model);
* ``statements`` / ``expressions`` / ``calls`` / ``loaders``: the interpreter, one concern each,
  with dispatch tables keyed by AST node type; ``flow`` assembles them as ``ModuleFlow``;
* ``facts``: what the checks read (``LossPair``, ``LoaderFact``, ``role_of``);
* ``syntax``: questions about syntax alone.
"""

from preflight.analysis.facts import LoaderFact, LossPair, role_of
from preflight.analysis.flow import ModuleFlow, analyse

__all__ = ["LoaderFact", "LossPair", "ModuleFlow", "analyse", "role_of"]
