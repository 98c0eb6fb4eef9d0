"""Built-in redaction rules."""
