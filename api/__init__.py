"""The REST service: FastAPI routes over the store, and the job runner's wiring.

Layers: api/ imports nas/ (and workers/ for Ray); nothing in nas/ imports api/. This
package's __init__ imports nothing, so `nas runner` can use api.config without FastAPI.
"""
