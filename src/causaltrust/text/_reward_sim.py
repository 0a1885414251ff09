"""A simulator of observational feedback on template texts: known causal reward, confounded selection and
outcome.

Every text is built from slots whose values are the text's attributes (topic, a question to readers, a call to
action, a personal note, enthusiasm, a long detail sentence). The causal reward of a text is a known linear
function
of its attributes. Confounders (peak posting hour, audience size) shape both which texts get written (at peak
hours
posts are longer and more enthusiastic; large audiences get fewer questions) and the observed engagement, so a
reward model fitted naively on (text, engagement) learns the confounders' effect through the attributes they
select.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from causaltrust.exceptions import DataError

__all__ = ["FeedbackData", "FeedbackSimulator"]

_TOPICS = {
    "sports": (
        "Big match tonight for the home team.",
        "Our team finally won the derby.",
        "The marathon route was announced today.",
    ),
    "cooking": (
        "I tried a new recipe for lentil soup.",
        "Fresh bread is cooling on the counter.",
        "Tonight we are making homemade pasta.",
    ),
    "technology": (
        "The new phone update is rolling out.",
        "I switched my laptop to a new editor.",
        "Our team shipped the new app release.",
    ),
    "travel": (
        "We just landed in Lisbon.",
        "The mountain trail was covered in snow.",
        "Booked a train trip along the coast.",
    ),
}
_SLOTS = {
    "personal": (
        "I have been looking forward to this all week.",
        "It reminds me of my grandmother's kitchen.",
    ),
    "long": (
        "Here is a detailed rundown of everything that happened, step by step, with all the numbers.",
        "Below I go through every part of it at length, point by point, in full detail.",
    ),
    "enthusiastic": ("This is absolutely amazing!", "So excited right now!"),
    "question": ("What do you think?", "Who else has tried this?"),
    "call_to_action": ("Share this with a friend.", "Follow for more posts like this."),
}
# the causal reward: what an attribute does to engagement when set by intervention
_EFFECTS = {"question": 0.8, "call_to_action": 0.5, "personal": 0.4, "enthusiastic": 0.0, "long": -0.4}
_TOPIC_EFFECTS = {"sports": 0.0, "cooking": 0.2, "technology": -0.1, "travel": 0.1}


@dataclass(frozen=True)
class FeedbackData:
    """One observational sample: texts, their attributes, the confounders, the observed outcome and the truth.

    Attributes
    ----------
    texts : list of str
    attributes : pandas.DataFrame
        ``topic`` and the binary slot attributes of every text.
    confounders : pandas.DataFrame
        ``peak_hour`` (0/1) and ``audience`` (standardised size).
    outcome : numpy.ndarray
        Observed engagement.
    true_reward : numpy.ndarray
        Each text's causal reward (its effect on engagement, confounders held fixed).
    """

    texts: list[str]
    attributes: pd.DataFrame
    confounders: pd.DataFrame
    outcome: np.ndarray
    true_reward: np.ndarray


@dataclass(frozen=True)
class FeedbackSimulator:
    """Observational feedback with a known causal reward and confounders of tunable strength.

    Parameters
    ----------
    confounding : float
        Strength s ≥ 0 of both confounding channels: the confounders' effect on which attributes appear
        (log-odds
        scaled by s) and on the outcome (scaled by s). 0 gives a randomised experiment.
    noise : float
        Standard deviation of the outcome noise.

    Examples
    --------
    >>> import causaltrust as ct
    >>> sim = ct.text.FeedbackSimulator(confounding=1.0)
    >>> data = sim.sample(100, random_state=0)
    >>> len(data.texts), data.confounders.columns.tolist()
    (100, ['peak_hour', 'audience'])
    """

    confounding: float = 1.0
    noise: float = 0.5

    def _check(self, n: int) -> None:
        if not isinstance(n, int | np.integer) or n < 1:
            raise DataError(f"n must be a positive int, got {n!r}")
        if not np.isfinite(self.confounding) or self.confounding < 0:
            raise DataError(f"confounding must be a finite number >= 0, got {self.confounding!r}")
        if not np.isfinite(self.noise) or self.noise < 0:
            raise DataError(f"noise must be a finite number >= 0, got {self.noise!r}")

    @staticmethod
    def true_reward(attributes: pd.DataFrame) -> np.ndarray:
        """The causal reward of texts with these attributes."""
        r = attributes["topic"].map(_TOPIC_EFFECTS).to_numpy(float)
        for name, beta in _EFFECTS.items():
            r = r + beta * attributes[name].to_numpy(float)
        return r

    @staticmethod
    def render(attributes: pd.DataFrame, variants: np.ndarray) -> list[str]:
        """Texts for attribute rows; ``variants`` (rows × 6 ints) picks the wording of each slot."""
        texts = []
        for k, row in enumerate(attributes.itertuples(index=False)):
            opts = _TOPICS[str(row.topic)]
            parts = [opts[variants[k, 0] % len(opts)]]
            for j, slot in enumerate(_SLOTS, start=1):
                if getattr(row, slot):
                    parts.append(_SLOTS[slot][variants[k, j] % len(_SLOTS[slot])])
            texts.append(" ".join(parts))
        return texts

    def _draw(self, n: int, rng: np.random.Generator, peak: np.ndarray, audience: np.ndarray) -> pd.DataFrame:
        s = self.confounding
        sign = 2 * peak - 1
        logits = {
            "personal": np.zeros(n),
            "long": s * (1.5 * sign + 0.5 * audience),
            "enthusiastic": s * 1.5 * sign,
            "question": -s * 1.0 * audience,
            "call_to_action": s * 0.8 * audience,
        }
        attrs: dict[str, Any] = {"topic": rng.choice(list(_TOPICS), size=n)}
        for slot in _SLOTS:
            attrs[slot] = (rng.random(n) < 1 / (1 + np.exp(-logits[slot]))).astype(int)
        return pd.DataFrame(attrs)

    def sample(self, n: int, *, random_state: int | np.random.Generator | None = None) -> FeedbackData:
        """Draw ``n`` observed posts: confounders, then the attributes they select, then engagement."""
        self._check(n)
        rng = np.random.default_rng(random_state)
        peak = (rng.random(n) < 0.5).astype(int)
        audience = rng.standard_normal(n)
        attrs = self._draw(n, rng, peak, audience)
        texts = self.render(attrs, rng.integers(0, 6, size=(n, 1 + len(_SLOTS))))
        truth = self.true_reward(attrs)
        outcome = (
            truth + self.confounding * (1.5 * peak + 0.8 * audience) + self.noise * rng.standard_normal(n)
        )
        conf = pd.DataFrame({"peak_hour": peak, "audience": audience})
        return FeedbackData(texts, attrs, conf, outcome, truth)

    def candidates(self, n: int, *, random_state: int | np.random.Generator | None = None) -> FeedbackData:
        """``n`` texts a policy could write, attributes drawn independently of any confounder (each slot 50%),
        with their true rewards; ``outcome`` is the true reward (no confounder acts on a candidate)."""
        self._check(n)
        rng = np.random.default_rng(random_state)
        attrs = pd.DataFrame(
            {"topic": rng.choice(list(_TOPICS), size=n), **{s: rng.integers(0, 2, size=n) for s in _SLOTS}}
        )
        texts = self.render(attrs, rng.integers(0, 6, size=(n, 1 + len(_SLOTS))))
        truth = self.true_reward(attrs)
        empty = pd.DataFrame({"peak_hour": np.zeros(n, int), "audience": np.zeros(n)})
        return FeedbackData(texts, attrs, empty, truth.copy(), truth)
