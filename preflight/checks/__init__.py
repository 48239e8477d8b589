"""Every rule that exists, in code order. Importing this module has no side effects."""

from __future__ import annotations

from preflight.checks.activation import (
    LogSoftmaxBeforeCrossEntropy,
    SigmoidBeforeBCELoss,
    SigmoidBeforeBCEWithLogits,
    SingleOutputCrossEntropy,
    SoftmaxBeforeCrossEntropy,
    SoftmaxBeforeNLLLoss,
)
from preflight.checks.base import Option, Rule
from preflight.checks.codes import CategoryCodesAsNumbers
from preflight.checks.duplicates import DuplicateRows
from preflight.checks.identifiers import IdLikeColumn
from preflight.checks.imbalance import ImbalancedClasses
from preflight.checks.leak import SuspectedTargetLeak
from preflight.checks.loader import SingleClassBatches, UnshuffledTrainingLoader
from preflight.checks.loops import (
    GradientsNeverZeroed,
    LossTensorAccumulated,
    SamplerEpochNeverSet,
    TrainModeNotRestored,
    UndividedAccumulatedLoss,
    UnguardedEvalLoop,
)
from preflight.checks.missing import MissingTarget, MissingTextValues
from preflight.checks.order import LabelSortedRows, LabelSortedShards, TargetSortedRows
from preflight.checks.scale import ConstantFeature, MixedFeatureScales, NonFiniteValues, UnnormalizedFeature
from preflight.checks.shapes import BroadcastLossShapes
from preflight.checks.training import (
    CannotOverfitOneBatch,
    DeadReluAtInit,
    EvalModeAtTrainingStart,
    InitLossFarFromExpected,
    ParameterWithoutGradient,
    SaturatedActivationAtInit,
    VanishingOrExplodingGradients,
)

ALL_RULES: tuple[Rule, ...] = (
    UnnormalizedFeature(),
    MixedFeatureScales(),
    ConstantFeature(),
    NonFiniteValues(),
    IdLikeColumn(),
    CategoryCodesAsNumbers(),
    SuspectedTargetLeak(),
    DuplicateRows(),
    MissingTarget(),
    MissingTextValues(),
    ImbalancedClasses(),
    LabelSortedRows(),
    TargetSortedRows(),
    UnshuffledTrainingLoader(),
    SingleClassBatches(),
    LabelSortedShards(),
    SigmoidBeforeBCELoss(),
    SoftmaxBeforeCrossEntropy(),
    SoftmaxBeforeNLLLoss(),
    SigmoidBeforeBCEWithLogits(),
    LogSoftmaxBeforeCrossEntropy(),
    SingleOutputCrossEntropy(),
    BroadcastLossShapes(),
    InitLossFarFromExpected(),
    CannotOverfitOneBatch(),
    DeadReluAtInit(),
    SaturatedActivationAtInit(),
    VanishingOrExplodingGradients(),
    ParameterWithoutGradient(),
    EvalModeAtTrainingStart(),
    GradientsNeverZeroed(),
    UnguardedEvalLoop(),
    LossTensorAccumulated(),
    TrainModeNotRestored(),
    SamplerEpochNeverSet(),
    UndividedAccumulatedLoss(),
)

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in ALL_RULES}

__all__ = ["ALL_RULES", "RULES_BY_CODE", "Option", "Rule"]
