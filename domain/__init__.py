"""Vaern's domain: contact files, restrictions and the rules the law puts on them. No I/O here."""
