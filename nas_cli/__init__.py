"""The `nas` command: the composition root above the layers (CLI, batch runs, reports).

It is the one package that may import api/, workers/ and nas/ together; no layer imports it.
"""
