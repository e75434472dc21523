"""Page layouts: functions that return components, one module per page."""
