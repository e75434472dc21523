"""The Dash application: ``create_app`` (dashboard.app), pages (dashboard.pages),
layouts/ and callbacks/ (one module per page), and the cached service between metrics
and the screens (dashboard.service). Importing this package touches nothing."""
