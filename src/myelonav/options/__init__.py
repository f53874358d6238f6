"""The options engine: record → every treatment option with a status, reasons and evidence."""
