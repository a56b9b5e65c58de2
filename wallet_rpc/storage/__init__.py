"""Storage: the schema, the database and its single writer, one module per table family."""
