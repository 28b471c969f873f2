"""Local `evaluate` metric scripts: load one with `evaluate.load(proteinhub.evaluation.metric_path(name))`.

Each script is an `evaluate.Metric` whose `_compute` calls `proteinhub.evaluation.metrics`, so its numbers are the
ones training writes to metrics.json. The scripts import `evaluate`; nothing in proteinhub imports them.
"""
