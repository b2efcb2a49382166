"""A fitted scikit-learn random forest as a LightGBM Booster, for TreeSHAP and nothing else.

shap's TreeExplainer gives a forest's path-dependent SHAP values with the GIL held, one row after
another: about 2 s for a 10,000-pupil upload with the demo's forest, most of the service's time. The
Booster's `pred_contrib` is the same algorithm (path-dependent TreeSHAP, Lundberg et al. 2018) in
multithreaded C++, so the forest is rewritten, tree by tree, into LightGBM's model text:

- each split keeps its feature and threshold; numerical, `value <= threshold` goes left, as in
  scikit-learn; a missing value follows the tree's `missing_go_to_left` (LightGBM's "default left"
  for NaN), which is where scikit-learn sends it;
- each leaf's value is its class-1 share divided by the number of trees, so the trees sum to the
  forest's probability (`predict_proba`, the mean of the trees');
- each node's cover is its weighted training count (`weighted_n_node_samples`, what shap uses),
  scaled to integers (LightGBM stores counts as int32) with `COVER_RESOLUTION` steps at the root.

Rows are rounded to float32 before prediction because scikit-learn's trees compare float32 inputs
with their thresholds; comparing the float64 value could send a row the other way at a threshold
between the two. The explainer checks every call's contributions against the forest's own
probability (`models.explain.check_additivity`), so a tree rewritten wrongly cannot go unnoticed;
the tests compare the values with shap's.
"""

from __future__ import annotations

import numpy as np

# Integer steps the root's cover is divided into: counts are int32 in LightGBM (under 2**31), and
# 1e9 steps keep the cover ratios TreeSHAP uses exact to about 1e-9 whatever the sample weights.
COVER_RESOLUTION = 1_000_000_000
# LightGBM decision_type bits: 2 = missing values go left, 8 = NaN is the missing value.
_DEFAULT_LEFT = 2
_MISSING_NAN = 8


def _numbers(values) -> str:
    return " ".join(repr(float(v)) for v in values)


def _integers(values) -> str:
    return " ".join(str(int(v)) for v in values)


def _tree_text(index: int, tree, positive: int, n_trees: int) -> str:
    t = tree.tree_
    is_leaf = t.children_left == -1
    internal = np.flatnonzero(~is_leaf)
    leaves = np.flatnonzero(is_leaf)
    # LightGBM numbers internal nodes and leaves separately; a child that is a leaf is written ~leaf.
    position = np.empty(t.node_count, dtype=np.int64)
    position[internal] = np.arange(len(internal))
    position[leaves] = -(np.arange(len(leaves)) + 1)
    counts = t.value[:, 0, :]
    share = counts[:, positive] / counts.sum(axis=1)  # the class-1 share at each node
    value = share / n_trees
    cover = t.weighted_n_node_samples
    scaled = np.maximum(np.rint(cover * (COVER_RESOLUTION / cover[0])), 1)
    missing_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=bool))
    decision = _MISSING_NAN + _DEFAULT_LEFT * np.asarray(missing_left, dtype=np.int64)
    if not len(internal):  # a single-leaf tree: LightGBM writes it with its value only
        return (
            f"Tree={index}\nnum_leaves=1\nnum_cat=0\nleaf_value={_numbers(value[leaves])}\n"
            "is_linear=0\nshrinkage=1\n\n\n"
        )
    lines = [
        f"Tree={index}",
        f"num_leaves={len(leaves)}",
        "num_cat=0",
        f"split_feature={_integers(t.feature[internal])}",
        f"split_gain={_integers(np.zeros(len(internal)))}",
        f"threshold={_numbers(t.threshold[internal])}",
        f"decision_type={_integers(decision[internal])}",
        f"left_child={_integers(position[t.children_left[internal]])}",
        f"right_child={_integers(position[t.children_right[internal]])}",
        f"leaf_value={_numbers(value[leaves])}",
        f"leaf_weight={_numbers(cover[leaves])}",
        f"leaf_count={_integers(scaled[leaves])}",
        f"internal_value={_numbers(value[internal])}",
        f"internal_weight={_numbers(cover[internal])}",
        f"internal_count={_integers(scaled[internal])}",
        "is_linear=0",
        "shrinkage=1",
    ]
    return "\n".join(lines) + "\n\n\n"


def forest_model_text(forest) -> str:
    """LightGBM model text whose raw score is `forest.predict_proba(X)[:, 1]` (X rounded to float32)."""
    positive = list(forest.classes_).index(1)
    n_features = int(forest.n_features_in_)
    trees = forest.estimators_
    head = [
        "tree",
        "version=v4",
        "num_class=1",
        "num_tree_per_iteration=1",
        "label_index=0",
        f"max_feature_idx={n_features - 1}",
        "objective=regression",
        "feature_names=" + " ".join(f"column_{j}" for j in range(n_features)),
        "feature_infos=" + " ".join("none" for _ in range(n_features)),
        "",
        "",
    ]
    body = "".join(_tree_text(i, tree, positive, len(trees)) for i, tree in enumerate(trees))
    return "\n".join(head) + body + "end of trees\n"


def forest_booster(forest):
    """The forest as a LightGBM Booster (see the module docstring); predict with `as_float32_rows`."""
    import lightgbm

    return lightgbm.Booster(model_str=forest_model_text(forest))


def as_float32_rows(X: np.ndarray) -> np.ndarray:
    """Rows as scikit-learn's trees see them (float32), held in float64 for LightGBM."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)
