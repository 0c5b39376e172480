# One image for every service of docker-compose.yml: the API, the runner and the Ray nodes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY nas ./nas
COPY api ./api
COPY workers ./workers
COPY nas_cli ./nas_cli
RUN pip install . "ray[default]>=2.9"

RUN useradd --create-home nas
USER nas
EXPOSE 8000
# Published beyond the container: nas serve refuses to start without NAS_API_TOKEN.
CMD ["nas", "serve", "--host", "0.0.0.0", "--port", "8000"]
