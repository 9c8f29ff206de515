"""The library's pinned enumerations as :class:`enum.IntEnum` classes.

Member names are the C constants without their common prefix
(``SBP_E_NOMEM`` is ``Status.E_NOMEM``, ``SBP_ENGINE_RELAX`` is
``Engine.RELAX``). The values are the C values; the test suite parses
``sbp.h`` and fails if the two ever drift apart.
"""

from enum import IntEnum

__all__ = [
    "Status", "Param", "ParamType", "Engine", "BaseRule", "Activation",
    "SpreadForm", "RetroWeight", "Encoder", "Loss", "Optimizer", "HiddenMode",
    "MnistPart", "RuleKind", "CostModel",
    "EventFormat", "EventBinning", "EventPolarity", "EventValue", "DvsGesturePart",
    "NettalkSplit",
]


class Status(IntEnum):
    """Result of a library call (``sbp_status``). Only ``OK`` is success."""

    OK = 0
    E_INVALID = 1
    E_RANGE = 2
    E_NOMEM = 3
    E_IO = 4
    E_FORMAT = 5
    E_TRUNCATED = 6
    E_TOO_LARGE = 7
    E_MISMATCH = 8
    E_STATE = 9
    E_UNSUPPORTED = 10
    E_NUMERIC = 11
    E_CHECKSUM = 12
    E_VERSION = 13
    E_CANCELLED = 14
    E_COMPRESSION = 15
    E_INTERNAL = 16


class Param(IntEnum):
    """Every tunable parameter (``sbp_param``); see :func:`sbp.param_info`."""

    # network, all engines
    NET_BATCH_SIZE = 0x100
    NET_THREADS = 0x101
    NET_OUTPUT_ACTIVATION = 0x102
    # relax engine
    RELAX_BASE_RULE = 0x200
    RELAX_FREE_ITERS = 0x201
    RELAX_NUDGE_ITERS = 0x202
    RELAX_EPSILON = 0x203
    RELAX_BETA = 0x204
    RELAX_DT = 0x205
    RELAX_T = 0x206
    RELAX_TAU_M = 0x207
    RELAX_TAU_S = 0x208
    RELAX_G_LEAK = 0x209
    RELAX_V_LEAK = 0x20A
    RELAX_V_E = 0x20B
    RELAX_V_TH = 0x20C
    RELAX_V_RESET = 0x20D
    RELAX_NAIVE = 0x20E
    # spike engine
    SPIKE_DT = 0x300
    SPIKE_STEPS = 0x301
    SPIKE_ENCODER = 0x302
    SPIKE_MAX_RATE = 0x303
    SPIKE_TEACH_RATE = 0x304
    SPIKE_REST_RATE = 0x305
    # ann engine
    ANN_LOSS = 0x400
    ANN_OPTIMIZER = 0x401
    ANN_MOMENTUM = 0x402
    ANN_HIDDEN_MODE = 0x403
    ANN_BP_EVERY = 0x404
    ANN_ADAM_BETA1 = 0x405
    ANN_ADAM_BETA2 = 0x406
    ANN_REPLACE_BP = 0x407
    # layer
    LAYER_ACTIVATION = 0x500
    LAYER_LEARNING_RATE = 0x501
    LAYER_TAU_M = 0x502
    LAYER_V_TH = 0x503
    LAYER_V_RESET = 0x504
    LAYER_T_REF = 0x505
    LAYER_CONNECTIVITY = 0x506
    # SBP spread rule
    SPREAD_ENABLED = 0x600
    SPREAD_FORM = 0x601
    SPREAD_FRACTION = 0x602
    SPREAD_LAMBDA_PRE = 0x603
    SPREAD_LAMBDA_POST = 0x604
    SPREAD_LAMBDA_BP = 0x605
    SPREAD_PROPAGATION_RANGE = 0x606
    SPREAD_LAMBDA_P = 0x607
    SPREAD_LAMBDA_F = 0x608
    SPREAD_RETRO_WEIGHT = 0x609
    SPREAD_SPLIT_LTP_LTD = 0x60A
    # pair STDP and supervised STDP
    STDP_A_PLUS = 0x700
    STDP_A_MINUS = 0x701
    STDP_TAU_PLUS = 0x702
    STDP_TAU_MINUS = 0x703
    STDP_W_MIN = 0x704
    STDP_W_MAX = 0x705
    STDP_MULTIPLICATIVE = 0x706
    STDP_ETA = 0x707
    # Tsodyks-Markram short-term plasticity
    STP_U = 0x800
    STP_TAU_F = 0x801
    STP_TAU_D = 0x802
    STP_TAU_S = 0x803
    # homeostatic threshold
    HOMEO_THETA_PLUS = 0x900
    HOMEO_TAU_THETA = 0x901
    HOMEO_TARGET_RATE = 0x902
    # RBM contrastive divergence
    CD_K = 0xA00
    CD_PERSISTENT = 0xA01
    CD_WEIGHT_DECAY = 0xA02
    CD_MOMENTUM = 0xA03
    CD_MONITOR = 0xA04


class ParamType(IntEnum):
    """Value type of a parameter (``sbp_param_type``)."""

    INT = 1
    REAL = 2


class Engine(IntEnum):
    """Network engines (``sbp_engine``)."""

    RELAX = 1
    SPIKE = 2
    ANN = 3
    RBM = 4


class BaseRule(IntEnum):
    """Base learning rule of the relax engine (``sbp_base_rule``)."""

    SYMMETRIC = 1
    DIFFERENTIAL = 2
    SBP = 3


class Activation(IntEnum):
    """Neuron activation functions (``sbp_activation``)."""

    SIGMOID = 1
    TANH = 2
    RELU = 3
    SCALED_SIGMOID = 4
    CLIP01 = 5
    LINEAR = 6


class SpreadForm(IntEnum):
    """Form of the SBP spread operator (``sbp_spread_form``)."""

    ADDITIVE = 1
    MULTIPLICATIVE = 2
    FEEDBACK = 3


class RetroWeight(IntEnum):
    """Weighting of the retrograde spread (``sbp_retro_weight``)."""

    UNIFORM = 1
    EFFICACY = 2
    SIGNED = 3
    RANDOM = 4


class Encoder(IntEnum):
    """Spike encoders of the spike engine (``sbp_encoder``)."""

    POISSON = 1
    LATENCY = 2
    EVENTS = 3


class Loss(IntEnum):
    """Loss of the ann engine (``sbp_loss``)."""

    MSE = 1
    SOFTMAX_XENT = 2


class Optimizer(IntEnum):
    """Optimizer of the ann engine (``sbp_optimizer``)."""

    SGD = 1
    ADAM = 2


class HiddenMode(IntEnum):
    """How the ann engine trains hidden layers (``sbp_hidden_mode``)."""

    BP = 1
    SBP = 2
    MIXED = 3


class MnistPart(IntEnum):
    """Which part of MNIST to load (``sbp_mnist_part``)."""

    TRAIN = 1
    TEST = 2


class RuleKind(IntEnum):
    """Kinds of plasticity rule (``sbp_rule_kind``)."""

    STDP = 1
    SUPERVISED_STDP = 2
    STP = 3
    HOMEOSTASIS = 4
    SBP_SPREAD = 5
    RBM_CD = 6


class CostModel(IntEnum):
    """Computational-cost models of :func:`sbp.cost_per_epoch` (``sbp_cost_model``)."""

    SNN = 1
    BBT = 2
    DENSE = 3


class EventFormat(IntEnum):
    """File format of an event recording (``sbp_event_format``)."""

    BS2 = 1
    AEDAT3 = 2


class EventBinning(IntEnum):
    """How events are split into frames (``sbp_event_binning``)."""

    TIME = 1
    COUNT = 2


class EventPolarity(IntEnum):
    """ON and OFF events in two channels or one (``sbp_event_polarity``)."""

    SPLIT = 1
    MERGE = 2


class EventValue(IntEnum):
    """What a frame cell holds (``sbp_event_value``)."""

    COUNT = 1
    BINARY = 2


class DvsGesturePart(IntEnum):
    """Which part of DVS128 Gesture to load (``sbp_dvsgesture_part``)."""

    TRAIN = 1
    TEST = 2


class NettalkSplit(IntEnum):
    """Train/test split of the NETtalk corpus (``sbp_nettalk_split``)."""

    PAPER = 1
    WORDS = 2
    PAPER_VAL = 3


#: C enum type name -> (Python class, prefix stripped from the C constants).
#: The drift test walks this table; a new C enum must be added here.
C_ENUMS = {
    "sbp_status": (Status, "SBP_"),
    "sbp_param": (Param, "SBP_"),
    "sbp_param_type": (ParamType, "SBP_PARAM_"),
    "sbp_engine": (Engine, "SBP_ENGINE_"),
    "sbp_base_rule": (BaseRule, "SBP_BASE_"),
    "sbp_activation": (Activation, "SBP_ACT_"),
    "sbp_spread_form": (SpreadForm, "SBP_SPREAD_"),
    "sbp_retro_weight": (RetroWeight, "SBP_RETRO_"),
    "sbp_encoder": (Encoder, "SBP_ENCODER_"),
    "sbp_loss": (Loss, "SBP_LOSS_"),
    "sbp_optimizer": (Optimizer, "SBP_OPT_"),
    "sbp_hidden_mode": (HiddenMode, "SBP_HIDDEN_"),
    "sbp_mnist_part": (MnistPart, "SBP_MNIST_"),
    "sbp_rule_kind": (RuleKind, "SBP_RULE_"),
    "sbp_cost_model": (CostModel, "SBP_COST_"),
    "sbp_event_format": (EventFormat, "SBP_EVENTS_"),
    "sbp_event_binning": (EventBinning, "SBP_EVENT_BIN_"),
    "sbp_event_polarity": (EventPolarity, "SBP_EVENT_POLARITY_"),
    "sbp_event_value": (EventValue, "SBP_EVENT_VALUE_"),
    "sbp_dvsgesture_part": (DvsGesturePart, "SBP_DVSGESTURE_"),
    "sbp_nettalk_split": (NettalkSplit, "SBP_NETTALK_"),
}
