"""What every E-Case service may import: configuration, database, messaging, Thai helpers, auth, audit."""
