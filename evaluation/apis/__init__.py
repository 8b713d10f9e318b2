"""REST API of evaluation: the same tables, plots and exports as the pages, for researchers
(their own studies and runs; admins all). One view per operation: ``studies``, ``runs`` and
``reports``; ``schema`` holds the bodies and parameters they document, ``files`` the
downloads they share."""
