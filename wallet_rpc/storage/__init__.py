"""Tables, the database and its single writer, and the repository of use-case queries."""
