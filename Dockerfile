# The gateway as a container image (docs/deployment.md): `docker build -t patientoverblik .`
# One process per container; run N containers behind a router or load balancer, all on one PostgreSQL
# access log and one Redis. Configure with PATIENTOVERBLIK_* variables; never bake secrets in.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/patientoverblik
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY gateway gateway
COPY auth auth
COPY resolvers resolvers
COPY sources sources
COPY sandbox sandbox
# The exact versions of requirements.lock, and the project itself (with its migrations) as a wheel.
RUN /opt/patientoverblik/bin/pip install -c requirements.lock .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /srv/patientoverblik patientoverblik
COPY --from=build /opt/patientoverblik /opt/patientoverblik
ENV PATH=/opt/patientoverblik/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATIENTOVERBLIK_HOST=0.0.0.0 \
    PATIENTOVERBLIK_PORT=8000 \
    PATIENTOVERBLIK_GRAPHIQL=false
USER patientoverblik
WORKDIR /srv/patientoverblik
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# `patientoverblik migrate` (same image, same variables) brings the access log to this version's schema
# before the new version starts, when PATIENTOVERBLIK_ACCESS_LOG__MIGRATE=false.
CMD ["patientoverblik", "serve"]
