"""One module per device backend. Each exposes `probe(include_missing) -> list[DeviceInfo]` and never raises."""
