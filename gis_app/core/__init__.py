"""What every feature builds on, with no web framework: database and transactions, row-level
security, the clock, errors, code lists, geometry helpers and the acting user."""
