"""The application shell: the ``orderboard`` command and the scheduled jobs."""
