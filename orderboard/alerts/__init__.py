"""Alerts to the person responsible (异常预警): configuration, instance states, routing,
channels and delivery. Conditions are evaluated through ``metrics.alert_rules``; state
lives in the store (``datasource.alert_store``)."""
