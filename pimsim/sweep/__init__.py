"""Parameter sweeps: a YAML grid of points of one pimsim command, run on a Dask cluster into
one SQLite table (spec.py reads the grid, point.py runs one point, store.py keeps the table,
cluster.py schedules the points, plot.py draws from the table)."""
