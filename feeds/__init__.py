"""Feeds: MQTT topics, payload decoders, the validation pipeline, the writer, the simulator."""
