"""The `engage` command line: the top layer, driving the runtime (monitor), the dashboard and the training."""
