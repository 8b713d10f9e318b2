"""A trained run served as a Label Studio ML backend, so Label Studio projects pre-annotate
clips with the run's model: one backend per run, at ``/ml-backend/<run_id>/``.

The contract is the one Label Studio speaks to any ML backend (its connector,
label_studio/ml/api_connector.py of HumanSignal/label-studio, and the reference server,
label_studio_ml/api.py of HumanSignal/label-studio-ml-backend): GET ``health``, POST
``setup``, POST ``predict`` (one prediction per task, in order) and POST ``webhook``.

- ``contract``: the payloads read and the bodies answered (pure, no database).
- ``predictor``: the run's model, loaded once per process, and the labels it proposes.
- ``service``: which run a user may serve, the label config matched to its taxonomy, the
  tasks' clips found in the run's dataset.
- ``authentication``: HTTP Basic with the avlabel API token as the password (what Label
  Studio's connection form offers).
"""
