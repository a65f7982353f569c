"""The E-Case services. Each sub-package owns one stage and imports only `shared`."""
