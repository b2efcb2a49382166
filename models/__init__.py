"""Models stage: train, calibrate, evaluate, explain, review fairness, register and promote.

One job per module, in the order a model meets them:
  config (the experiment YAML) -> estimators, calibration, checklist (the baseline) -> metrics -> train
  -> tracking (the only module that talks to MLflow) with fingerprint, training_log, model_card,
     comparison, promotion -> explain (SHAP) -> reasons (plain English) -> plots
  -> fairness (group metrics), fairness_report, fairness_run -> risk_matrix -> record_encoding, scoring,
     score_report; rendering fills the templates in templates/; train_cli and score_cli are the commands.
"""
