"""What the programs do, each once: a use-case composes the data layer
(:mod:`store`) with the pure logic (:mod:`geo`), and the desk, the CLI, the
dispatcher and the export routes call the same function."""
