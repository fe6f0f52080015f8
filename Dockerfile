# gameday, the in-cluster runner image: slim, non-root, every version pinned.
#   docker build -t registry.example.com/sre/gameday-runner:0.1.0 .
# See docs (README "Running in the cluster") for pushing it and the manifests that use it.
# The base image is pinned to an exact Python patch release on Debian bookworm; pin it to
# its digest too (python:3.11.11-slim-bookworm@sha256:...) in your registry mirror.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY deploy/image/requirements.txt ./requirements.txt
RUN python -m venv /opt/gameday \
 && /opt/gameday/bin/pip install --no-compile -r requirements.txt
COPY pyproject.toml README.md ./
COPY runner ./runner
COPY extensions ./extensions
RUN /opt/gameday/bin/pip install --no-compile --no-deps --no-build-isolation . \
 && /opt/gameday/bin/gameday --version

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="gameday-runner" \
      org.opencontainers.image.description="Game days with sequential steady-state tests that always revert" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/gameday/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
RUN groupadd --system --gid 65532 gameday \
 && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/gameday --no-create-home \
      --shell /usr/sbin/nologin gameday \
 && mkdir -p /var/lib/gameday \
 && chown 65532:65532 /var/lib/gameday
COPY --from=build /opt/gameday /opt/gameday
WORKDIR /var/lib/gameday
# The same UID as the manifests' runAsUser; numeric, so runAsNonRoot can check it.
USER 65532:65532
ENTRYPOINT ["gameday"]
CMD ["--help"]
