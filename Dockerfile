# syntax=docker/dockerfile:1
# One image for every tongban process: the five services, the gateway (with the
# web portal's build), the migration step and the simulators (EMS, data exchange, SMS). The container's command
# chooses which:
#   python -m operations.runner gateway.service:GatewayService
#   python -m operations.runner services.workflow.service:WorkflowService
#   python -m operations.migrate identity
#   python -m simulators.ems --host 0.0.0.0
#   python -m simulators.data_exchange --host 0.0.0.0
#   python -m simulators.sms --host 0.0.0.0
# Build: docker build -t tongban:<version> .

# The Python stages use the same base; for a reproducible build, pin the digests
# of every FROM line (python:3.11-slim-bookworm@sha256:..., node:20-bookworm-slim@sha256:...).

# --- portal: the web portal (Vue, built by Vite), which the gateway serves at "/" ---
FROM node:20-bookworm-slim AS portal
ENV npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
WORKDIR /portal
COPY portal/package.json portal/package-lock.json ./
RUN npm ci
COPY portal/index.html portal/tsconfig.json portal/vite.config.ts ./
COPY portal/public ./public
COPY portal/src ./src
RUN npm run build

# --- build: the runtime dependencies, pinned by requirements.lock, in a venv ---
FROM python:3.11-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml requirements.lock ./
# Only the project's runtime dependencies (not pytest, ruff and the like), at the
# versions the lock pins. All but one ship manylinux wheels; psycogreen is pure
# Python and builds from its sdist without a compiler.
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > runtime.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --prefer-binary -c requirements.lock -r runtime.txt
COPY config ./app/config
COPY services ./app/services
COPY gateway ./app/gateway
COPY operations ./app/operations
COPY simulators ./app/simulators
RUN find ./app -type d \( -name tests -o -name __pycache__ \) -prune -exec rm -rf {} + \
    && /opt/venv/bin/python -m compileall -q ./app /opt/venv

# --- runtime: the venv and the code, owned by root, run as an unprivileged user ---
FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="tongban" \
      org.opencontainers.image.description="Back end of a provincial government service network" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 tongban \
    && useradd --system --uid 10001 --gid tongban --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin tongban
COPY --from=build /opt/venv /opt/venv
COPY --from=build /build/app /app
# PORTAL_DIST's default: <project>/portal/dist.
COPY --from=portal /portal/dist /app/portal/dist
# The code is read-only to the process; bytecode was compiled at build time, and
# the only writable place it needs is /tmp (an emptyDir on Kubernetes).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TONGBAN_DATA_DIR=/tmp/tongban
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "operations.healthcheck"]
CMD ["python", "-m", "operations.runner", "gateway.service:GatewayService"]
