"""Vaern on Kafka: the message contract, the relay that publishes it, and the telephony reference consumer."""
