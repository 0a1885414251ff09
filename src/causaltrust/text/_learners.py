"""Invariant text classifiers: ERM, counterfactual data augmentation, entity masking, consistency.

Implicit causal integration (the paper's Section 4.1): no explicit graph, the invariance is stated by an
intervention on the text. All four methods share one model (a logistic head on MiniLM sentence embeddings, or
MiniLM's top layers fine-tuned with LoRA) and one objective, and differ only in what the objective sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, ClassVar, TypeVar, cast

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from causaltrust.exceptions import DataError
from causaltrust.text._interventions import (
    InterventionLike,
    apply_intervention,
    neutralize_gender,
    replace_entities,
)
from causaltrust.text._models import MINILM_LICENCE, _as_texts, minilm_encoder, torch_threads

__all__ = ["METHODS", "EmbeddingClassifier", "TextClassifier"]

METHODS = ("erm", "cda", "entity", "consistency")
_GENDER = ("gender", "gender_words")
#: Constraints shared by the text estimators' settings (scikit-learn's ``_parameter_constraints``).
_COUNT: list[Any] = [Interval(Integral, 1, None, closed="left")]
_POSITIVE: list[Any] = [Interval(Real, 0, None, closed="neither")]
_THREADS: list[Any] = [Interval(Integral, 1, None, closed="left"), None]

_Fit = TypeVar("_Fit", bound=Callable[..., Any])


def _validated_fit(fit: _Fit) -> _Fit:
    """scikit-learn's ``_fit_context`` for a text estimator's ``fit``: its settings are checked against
    ``_parameter_constraints`` first (``InvalidParameterError``, a ``ValueError``, naming the setting and
    the values allowed), and so are those of the estimators the user passed in."""
    return cast(_Fit, _fit_context(prefer_skip_nested_validation=False)(fit))


def _labels(y: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(y)
    if arr.ndim != 1 or len(arr) != n:
        raise DataError(f"y must be one label per text: got shape {arr.shape} for {n} texts")
    classes = np.unique(arr)
    if len(classes) != 2:
        raise DataError(f"y must have exactly two classes, got {len(classes)}: {classes.tolist()[:5]}")
    return classes, (arr == classes[1]).astype(np.float64)


class _SavesAsData:
    """``save(path)`` of the text estimators: a data-only model file that ``ct.load_model`` reads back."""

    # settings a user may give as a Python function (code, which a data-only file cannot hold)
    _code_settings: ClassVar[tuple[str, ...]] = ()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the estimator to ``path`` (conventionally ``*.ctm``) as data only: JSON and arrays.

        Weights are stored as arrays and scikit-learn parts (an encoder, a head, a nuisance model) as skops
        blobs, read back with an explicit list of trusted types. The frozen MiniLM encoder is not stored: it
        is the packaged one. A fine-tuned :class:`TextClassifier` stores its settings and the tensors
        training changed (LoRA adapters or the unfrozen top layers, and the head); loading rebuilds MiniLM
        from the packaged weights, offline, and copies them in. ``ct.load_model(path)`` rebuilds the
        estimator without unpickling or running stored code, and it predicts bit-identically. A setting
        given as a Python function (an ``encoder`` or an ``intervention``) is code, not data: it is refused
        with a :class:`~causaltrust.exceptions.DataError` naming it.

        Parameters
        ----------
        path : str or path-like
            Where to write (atomically).

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import causaltrust as ct
        >>> from sklearn.feature_extraction.text import CountVectorizer
        >>> train, test = ct.text.load_biographies(200, 50, random_state=0)
        >>> clf = ct.text.TextClassifier(method="cda", encoder=CountVectorizer())
        >>> clf = clf.fit(train.text.tolist(), train.label)
        >>> path = os.path.join(tempfile.mkdtemp(), "clf.ctm")
        >>> clf.save(path)
        >>> back = ct.load_model(path)
        >>> texts = test.text.tolist()
        >>> bool(np.array_equal(back.predict_proba(texts), clf.predict_proba(texts)))
        True
        """
        from causaltrust.scm import save_model

        for name in self._code_settings:
            value = getattr(self, name)
            if callable(value) and not isinstance(value, BaseEstimator):
                raise DataError(
                    f"{type(self).__name__}.save: {name}={value!r} is a Python function, and a data-only "
                    "model file holds no code; give it as data (a named intervention or a word mapping, a "
                    "scikit-learn transformer), or pickle the estimator yourself and load it with "
                    "--allow-pickle"
                )
        save_model(self, path)


class EmbeddingClassifier(_SavesAsData, ClassifierMixin, BaseEstimator):
    """Any scikit-learn classifier on MiniLM sentence embeddings, over lists of strings.

    Parameters
    ----------
    estimator : classifier, optional
        The head (default ``LogisticRegression(max_iter=1000)``); it is cloned at ``fit``.
    device : str
        Torch device of the encoder.
    n_threads : int, optional
        Torch CPU threads while encoding (restored afterwards).

    Examples
    --------
    >>> import causaltrust as ct
    >>> train, test = ct.text.load_biographies(60, 20, random_state=0)
    >>> clf = ct.text.EmbeddingClassifier().fit(train.text.tolist(), train.label)
    >>> clf.predict_proba(test.text.tolist()[:2]).shape
    (2, 2)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "device": [str],
        "n_threads": _THREADS,
    }

    def __init__(self, estimator: Any = None, device: str = "cpu", n_threads: int | None = None) -> None:
        self.estimator = estimator
        self.device = device
        self.n_threads = n_threads

    @_validated_fit
    def fit(self, texts: Sequence[str], y: Any) -> EmbeddingClassifier:
        from sklearn.linear_model import LogisticRegression

        items = _as_texts(texts, "texts")
        head = clone(self.estimator) if self.estimator is not None else LogisticRegression(max_iter=1000)
        self.estimator_ = head.fit(
            minilm_encoder(self.device, n_threads=self.n_threads).encode(items), np.asarray(y)
        )
        self.classes_ = self.estimator_.classes_
        self.licence_ = MINILM_LICENCE
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        emb = minilm_encoder(self.device, n_threads=self.n_threads).encode(_as_texts(texts, "texts"))
        return np.asarray(self.estimator_.predict_proba(emb))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        proba = self.predict_proba(texts)
        return np.asarray(self.classes_)[proba.argmax(axis=1)]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # exact at large |z|, no overflow warning


def _fit_logistic(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, D: np.ndarray | None, strength: float, C: float
) -> np.ndarray:
    """Weights [coef..., intercept] minimising the weighted mean log-loss + ||coef||^2 / (2 C n)
    + strength * mean((D coef)^2), by L-BFGS from zero (deterministic: no random start).

    ``D`` holds feature differences between factual and counterfactual texts: the consistency penalty is the
    mean squared change of the logit (the intercept cancels), a convex term, so the optimum is unique.
    """
    from scipy.optimize import minimize

    n, d = X.shape
    Xb = np.hstack([X, np.ones((n, 1))])
    wsum = w.sum()
    reg = 1.0 / (C * n)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = Xb @ theta
        # log(1 + exp(z)) - y z, stable on both sides
        loss = np.logaddexp(0.0, z) - y * z
        f = float(w @ loss) / wsum
        g = Xb.T @ (w * (_sigmoid(z) - y)) / wsum
        coef = theta[:d]
        f += 0.5 * reg * float(coef @ coef)
        g[:d] += reg * coef
        if D is not None and strength > 0 and len(D):
            dz = D @ coef
            f += strength * float(dz @ dz) / len(D)
            g[:d] += 2.0 * strength * (D.T @ dz) / len(D)
        return f, g

    with _one_blas_thread():  # small matrices: threads only add spin-waiting, badly so on a busy machine
        res = minimize(objective, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return np.asarray(res.x)


def _one_blas_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class TextClassifier(_SavesAsData, ClassifierMixin, BaseEstimator):
    """A binary text classifier trained for invariance under a text intervention.

    Methods (all share the model and the objective, so their differences are the method's own):

    - ``"erm"``: plain empirical risk minimisation on the factual texts;
    - ``"cda"``: counterfactual data augmentation: each training text plus its counterfactual under
      ``intervention``, with the same label;
    - ``"entity"``: entity-intervention preprocessing at fit and predict time: first names and other named
      entities become placeholders (``PERSON_1``), and for a gender intervention gendered words become
      neutral ones (he/she → they, wife → spouse);
    - ``"consistency"``: ERM plus ``strength`` × the mean squared change of the logit between each training
      text and its counterfactual (a counterfactual-consistency regulariser; ``strength=0`` is ERM).

    The model is a logistic head on sentence embeddings (``finetune=False``; MiniLM embeddings are cached per
    text) or MiniLM with LoRA adapters on its top ``n_layers`` layers plus a linear head, trained with Adam
    (``finetune=True`` or ``"lora"``; ``"top"`` unfreezes the top layers instead of adding adapters).

    Parameters
    ----------
    method : {"erm", "cda", "entity", "consistency"}
    intervention : str, dict or callable
        The intervention the classifier should be invariant to (see :func:`counterfactual_pairs`).
    strength : float
        Weight of the consistency penalty (``method="consistency"`` only).
    finetune : bool or {"lora", "top"}
        Fine-tune MiniLM's top layers instead of training a head on frozen embeddings.
    encoder : "minilm", a scikit-learn transformer over texts, or a callable
        How texts become features when ``finetune=False``. A transformer (e.g. ``CountVectorizer``) is cloned
        and fitted on the texts the method trains on (counterfactuals included for cda and consistency).
    C : float
        Inverse L2 strength of the head (scikit-learn's convention).
    epochs, lr, batch_size, n_layers, lora_rank : fine-tuning settings.
    device : str
        Torch device ("cpu", "cuda").
    n_threads : int, optional
        Torch CPU threads during encoding and fine-tuning (restored afterwards).
    random_state : int
        Seed of fine-tuning (initialisation and batch order); the head on embeddings is deterministic.

    Examples
    --------
    >>> import causaltrust as ct
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> train, test = ct.text.load_biographies(300, 100, random_state=0)
    >>> clf = ct.text.TextClassifier(method="cda", encoder=CountVectorizer())
    >>> clf = clf.fit(train.text.tolist(), train.label)
    >>> float(clf.score(test.text.tolist(), test.label)) > 0.5
    True
    """

    _code_settings = ("intervention", "encoder")
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "method": [StrOptions(set(METHODS))],
        "intervention": [str, Mapping, callable],
        "strength": [Interval(Real, 0, None, closed="left")],
        "finetune": ["boolean", StrOptions({"lora", "top"})],
        "encoder": [StrOptions({"minilm"}), HasMethods(["fit", "transform"]), callable],
        "C": _POSITIVE,
        "epochs": _COUNT,
        "lr": _POSITIVE,
        "batch_size": _COUNT,
        "n_layers": _COUNT,  # at most MiniLM's 6 layers: checked when the net is built
        "lora_rank": _COUNT,
        "device": [str],
        "n_threads": _THREADS,
        "random_state": [Interval(Integral, 0, None, closed="left")],  # torch's seed
    }

    def __init__(
        self,
        method: str = "erm",
        intervention: InterventionLike = "gender",
        strength: float = 1.0,
        finetune: bool | str = False,
        encoder: Any = "minilm",
        C: float = 1.0,
        epochs: int = 3,
        lr: float = 1e-3,
        batch_size: int = 32,
        n_layers: int = 1,
        lora_rank: int = 8,
        device: str = "cpu",
        n_threads: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.intervention = intervention
        self.strength = strength
        self.finetune = finetune
        self.encoder = encoder
        self.C = C
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.n_layers = n_layers
        self.lora_rank = lora_rank
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state

    # -- shared ------------------------------------------------------------------------------------------
    def _prepare(self, texts: list[str]) -> list[str]:
        if self.method != "entity":
            return texts
        if isinstance(self.intervention, str) and self.intervention in _GENDER:
            return [neutralize_gender(t) for t in texts]
        return [replace_entities(t) for t in texts]

    @_validated_fit
    def fit(self, texts: Sequence[str], y: Any) -> TextClassifier:
        items = _as_texts(texts, "texts")
        self.classes_, target = _labels(y, len(items))
        items = self._prepare(items)
        cf: list[str] = []
        if self.method in ("cda", "consistency"):
            pairs = apply_intervention(self.intervention, items)
            changed = [i for i, p in enumerate(pairs) if p.changed]
            cf_idx = np.asarray(changed, dtype=np.int64)
            cf = [pairs[i].counterfactual for i in changed]
        else:
            cf_idx = np.zeros(0, dtype=np.int64)
        self.n_counterfactuals_ = len(cf)
        if self.finetune:
            self._fit_finetune(items, target, cf_idx, cf)
        else:
            self._fit_head(items, target, cf_idx, cf)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "classes_")
        items = self._prepare(_as_texts(texts, "texts"))
        if not items:
            return np.zeros((0, 2))
        z = (
            self._finetuned_logits(items)
            if self.finetune
            else self._features(items) @ self.coef_ + self.intercept_
        )
        p = _sigmoid(np.asarray(z, dtype=np.float64))
        return np.column_stack([1.0 - p, p])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        proba = self.predict_proba(texts)
        return np.asarray(self.classes_)[(proba[:, 1] >= 0.5).astype(int)]

    # -- head on frozen features --------------------------------------------------------------------------
    def _features(self, texts: list[str]) -> np.ndarray:
        enc = self.encoder_
        if enc == "minilm":
            return minilm_encoder(self.device, n_threads=self.n_threads).encode(texts).astype(np.float64)
        out = enc.transform(texts) if hasattr(enc, "transform") else enc(texts)
        if hasattr(out, "toarray"):
            out = out.toarray()
        return np.asarray(out, dtype=np.float64)

    def _fit_head(self, items: list[str], target: np.ndarray, cf_idx: np.ndarray, cf: list[str]) -> None:
        enc = self.encoder
        if enc == "minilm":
            self.encoder_: Any = "minilm"
            self.licence_ = MINILM_LICENCE
        elif hasattr(enc, "fit") and hasattr(enc, "transform"):
            self.encoder_ = clone(enc).fit(items + cf)
        else:  # a function texts -> array (the constraints allow nothing else)
            self.encoder_ = enc
        feats = self._features(items + cf)
        X, Xcf = feats[: len(items)], feats[len(items) :]
        weights = np.ones(len(items))
        D = None
        if self.method == "cda" and len(cf):
            X = np.vstack([X, Xcf])
            target = np.concatenate([target, target[cf_idx]])
            weights = np.ones(len(X))
        elif self.method == "consistency":
            D = X[cf_idx] - Xcf
        theta = _fit_logistic(X, target, weights, D, float(self.strength), float(self.C))
        self.coef_ = theta[:-1]
        self.intercept_ = float(theta[-1])
        self.n_features_ = X.shape[1]

    # -- fine-tuning ---------------------------------------------------------------------------------------
    def _fit_finetune(self, items: list[str], target: np.ndarray, cf_idx: np.ndarray, cf: list[str]) -> None:
        try:
            import torch
        except ImportError as exc:
            raise ImportError("fine-tuning needs torch; run: pip install 'causaltrust[text]'") from exc
        texts = list(items)
        labels = target.copy()
        if self.method == "cda" and cf:
            texts += cf
            labels = np.concatenate([labels, target[cf_idx]])
        partner = {int(i): j for j, i in enumerate(cf_idx)} if self.method == "consistency" else {}
        with (
            torch.random.fork_rng(devices=[]),
            torch_threads(self.n_threads),
        ):  # seeded locally: the caller's global torch stream is untouched
            torch.manual_seed(self.random_state)
            mode = "lora" if self.finetune in (True, "lora") else "top"
            net = _FineTunedNet(mode, int(self.n_layers), int(self.lora_rank), str(self.device))
            _, body, head = net.build()
            params = [p for m in (body, head) for p in m.parameters() if p.requires_grad]
            opt = torch.optim.Adam(params, lr=float(self.lr))
            gen = torch.Generator().manual_seed(self.random_state)
            y_t = torch.tensor(labels, dtype=torch.float32)
            bce = torch.nn.BCEWithLogitsLoss()
            body.train()
            head.train()
            for _ in range(int(self.epochs)):
                order = torch.randperm(len(texts), generator=gen).tolist()
                for start in range(0, len(order), int(self.batch_size)):
                    idx = order[start : start + int(self.batch_size)]
                    logits = net([texts[i] for i in idx])
                    loss = bce(logits, y_t[idx].to(logits.device))
                    pen = [(k, partner[i]) for k, i in enumerate(idx) if i in partner]
                    if pen and self.strength > 0:
                        cf_logits = net([cf[j] for _, j in pen])
                        diff = logits[[k for k, _ in pen]] - cf_logits
                        loss = loss + float(self.strength) * (diff**2).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            body.eval()
            head.eval()
        net.keep_trained()
        self.net_ = net
        self.licence_ = MINILM_LICENCE
        self.encoder_ = "minilm-finetuned"

    def _finetuned_logits(self, texts: list[str]) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode(), torch_threads(self.n_threads):
            for start in range(0, len(texts), 64):
                out.append(self.net_(texts[start : start + 64]).float().cpu().numpy())
        return np.concatenate(out)


def _build_finetune_net(mode: str, n_layers: int, lora_rank: int, device: str) -> tuple[Any, Any, Any]:
    """``(tokenizer, body, head)``: packaged MiniLM (mean pooling) and a linear head, trainable parts marked.

    ``mode="lora"`` adds LoRA adapters to the query and value of the top ``n_layers`` layers; ``"top"``
    unfreezes those layers instead. Everything else is MiniLM's packaged weights, loaded offline. Fitting
    and loading a saved classifier both build the net here, so a loaded net is the fitted one.
    """
    import torch

    from causaltrust.text._models import load_minilm

    tokenizer, model = load_minilm(device, "float32", attn_implementation="sdpa")
    n_total = model.config.num_hidden_layers
    if not 1 <= n_layers <= n_total:
        raise DataError(f"TextClassifier: n_layers must be in 1..{n_total}, got {n_layers}")
    top = list(range(n_total - n_layers, n_total))
    for p in model.parameters():
        p.requires_grad_(False)
    if mode == "lora":
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as exc:
            raise ImportError("LoRA fine-tuning needs peft; run: pip install 'causaltrust[text]'") from exc
        config = LoraConfig(
            r=lora_rank,
            lora_alpha=2 * lora_rank,
            target_modules=["query", "value"],
            layers_to_transform=top,
            lora_dropout=0.0,
            bias="none",
        )
        model = get_peft_model(model, config)
    else:
        for i in top:
            for p in model.encoder.layer[i].parameters():
                p.requires_grad_(True)

    head = torch.nn.Linear(model.config.hidden_size, 1).to(device)
    return tokenizer, model, head


class _FineTunedNet:
    """MiniLM body (mean pooling) + linear head, whose state is data.

    What pickles and model files store (:meth:`__getstate__`) is the build settings and the tensors training
    changed, as float32 NumPy arrays by parameter name (the LoRA adapters or the unfrozen top layers, and the
    head). The torch modules are a cache: a fitted net keeps the ones it trained, a loaded net rebuilds them
    on first use with :func:`_build_finetune_net` (MiniLM from the packaged weights, offline) and copies the
    stored arrays in. Names and shapes must match the rebuilt net exactly, so a tampered file is refused.
    """

    _modules: tuple[Any, Any, Any] | None = None  # (tokenizer, body, head); never stored

    def __init__(self, mode: str, n_layers: int, lora_rank: int, device: str) -> None:
        self.mode = mode
        self.n_layers = n_layers
        self.lora_rank = lora_rank
        self.device = device
        self.trained: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_modules"}

    def _named_trainable(self, modules: tuple[Any, Any, Any]) -> dict[str, Any]:
        _, body, head = modules
        named = [(f"body.{n}", p) for n, p in body.named_parameters()]
        named += [(f"head.{n}", p) for n, p in head.named_parameters()]
        return {n: p for n, p in named if p.requires_grad}

    def build(self) -> tuple[Any, Any, Any]:
        """Fresh modules with MiniLM's packaged weights (the starting point of training)."""
        self._modules = _build_finetune_net(self.mode, self.n_layers, self.lora_rank, self.device)
        return self._modules

    def keep_trained(self) -> None:
        """Record the trained tensors as arrays (the net's stored state) after training."""
        params = self._named_trainable(self.modules())
        self.trained = {n: p.detach().cpu().numpy().copy() for n, p in params.items()}

    def modules(self) -> tuple[Any, Any, Any]:
        """The torch modules: those trained, or rebuilt from MiniLM and the stored arrays."""
        if self._modules is not None:
            return self._modules
        import torch

        settings = (self.mode, self.n_layers, self.lora_rank, self.device)
        if self.mode not in ("lora", "top") or not all(isinstance(v, int) for v in settings[1:3]):
            raise DataError(
                f"TextClassifier: stored fine-tuning settings {settings!r} are not (lora|top, int, int, "
                "device); the model file is damaged or was edited"
            )
        # the fresh head and adapters draw random numbers: from a forked stream, not the caller's
        with torch.random.fork_rng(devices=[]):
            modules = _build_finetune_net(self.mode, self.n_layers, self.lora_rank, self.device)
        params = self._named_trainable(modules)
        stored = self.trained
        if not isinstance(stored, dict) or set(stored) != set(params):
            raise DataError(
                "TextClassifier: the stored fine-tuned tensors do not match the net its settings build "
                f"({len(params)} tensors expected); the model file is damaged or was edited"
            )
        with torch.no_grad():
            for name, p in params.items():
                arr = stored[name]
                if not isinstance(arr, np.ndarray) or arr.shape != tuple(p.shape) or arr.dtype != np.float32:
                    raise DataError(
                        f"TextClassifier: stored tensor {name!r} is not a float32 array of shape "
                        f"{tuple(p.shape)}; the model file is damaged or was edited"
                    )
                p.copy_(torch.from_numpy(arr))
        for m in modules[1:]:
            m.eval()
        self._modules = modules
        return modules

    def __call__(self, batch_texts: list[str]) -> Any:
        from causaltrust.text._models import MAX_LENGTH

        tokenizer, body, head = self.modules()
        enc = tokenizer(
            batch_texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt"
        ).to(self.device)
        hidden = body(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return head(pooled).squeeze(-1)
