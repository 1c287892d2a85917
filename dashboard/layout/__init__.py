"""Pure layout builders: data in, Dash components out."""
