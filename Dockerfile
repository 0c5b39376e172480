# One image for every service of docker-compose.yml: the API, the runner and the Ray nodes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY nas ./nas
COPY api ./api
COPY workers ./workers
RUN pip install . "ray[default]>=2.9"

RUN useradd --create-home nas
USER nas
EXPOSE 8000
CMD ["nas", "serve", "--host", "0.0.0.0", "--port", "8000"]
