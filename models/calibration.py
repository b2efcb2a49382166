"""Calibration on held-out data: a fitted classifier plus a monotone map from its scores to probabilities.

Why a small class of our own rather than `CalibratedClassifierCV`:
- scikit-learn's `sigmoid` method fits Platt scaling on `predict_proba` itself for estimators without a
  `decision_function` (random forest, LightGBM), i.e. sigmoid(a * p + b), a poor shape for probabilities.
  We fit Platt scaling on the base model's *log-odds*: calibrated logit = slope * logit(p) + intercept.
  Class weighting multiplies the odds by a constant, which this map undoes exactly (intercept), and a
  random forest's averaged votes are squeezed towards 0.5, which the slope stretches back.
- For LightGBM and logistic regression the calibrated log-odds are an affine function of the model's raw
  margin, so per-pupil SHAP attributions of the base model (in log-odds) map to calibrated log-odds by
  multiplying by `slope_`; `explain` can rely on that.
- The fitted map is stored as plain numbers/arrays, so the serialised pipeline trusts only one extra
  type (this class).

`method="isotonic"` (a step function fitted by `IsotonicRegression`) is available; it can fit any
monotone distortion but creates plateaus (ties), which blunt ranking in the top few per cent.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from exclusion_risk.values import sigmoid

METHODS = ("sigmoid", "isotonic")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


class CalibratedClassifier(ClassifierMixin, BaseEstimator):
    """`estimator` (already fitted on training data) with a calibration map fitted by `fit` on held-out data.

    `fit(X_cal, y_cal)` never refits `estimator`; `predict_proba` returns calibrated probabilities.
    """

    def __init__(self, estimator=None, method: str = "sigmoid"):
        self.estimator = estimator
        self.method = method

    def _raw(self, X) -> np.ndarray:
        return self.estimator.predict_proba(X)[:, 1]

    def fit(self, X, y):
        if self.method not in METHODS:
            raise ValueError(f"calibration method must be one of {METHODS}, not {self.method!r}")
        y = np.asarray(y).astype(int)
        if np.unique(y).size < 2:
            raise ValueError("calibration data must contain both outcomes")
        raw = self._raw(X)
        if self.method == "sigmoid":
            # Nearly unpenalised: two parameters fitted on thousands of rows need no shrinkage.
            lr = LogisticRegression(C=1e6, max_iter=1000)
            lr.fit(_logit(raw)[:, None], y)
            self.slope_ = float(lr.coef_[0, 0])
            self.intercept_ = float(lr.intercept_[0])
        else:
            iso = IsotonicRegression(y_min=_EPS, y_max=1 - _EPS, out_of_bounds="clip").fit(raw, y)
            self.thresholds_x_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.thresholds_y_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        self.classes_ = np.array([0, 1])
        self.n_calibration_ = int(y.size)
        return self

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Map base-model probabilities to calibrated probabilities."""
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "sigmoid":
            return sigmoid(self.slope_ * _logit(raw) + self.intercept_)
        return np.interp(raw, self.thresholds_x_, self.thresholds_y_)

    def predict_proba(self, X) -> np.ndarray:
        p = self.calibrate(self._raw(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)
