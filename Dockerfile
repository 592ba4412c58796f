# The mite image: this repository's wheel installed into a virtualenv on a Python base image.
# Nothing is fetched while building: `make image` first builds the release wheel and downloads its
# dependencies into dist/image-wheels, and pip installs from that folder only.
#
#   make image                                   # = build the wheels, then:
#   docker build --build-arg BASE_IMAGE=python:3.11-slim -t mite .
#
# The base must have the Python the wheel was built for (3.11 here) with its venv module.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS install
COPY dist/image-wheels/ /tmp/wheels/
RUN python3 -m venv /opt/mite \
    && /opt/mite/bin/pip install --no-cache-dir --no-index --find-links=/tmp/wheels mite \
    && { /opt/mite/bin/pip uninstall -q -y setuptools 2>/dev/null || true; } \
    && find /opt/mite -name __pycache__ -prune -exec rm -rf {} + \
    && /opt/mite/bin/python -m compileall -q /opt/mite/lib

FROM ${BASE_IMAGE}
COPY --from=install /opt/mite /opt/mite
# mite runs as an ordinary user; /mite is its working directory, where scenario files go (mount
# them there: mite puts the working directory on the Python path) and collector_data/ is written.
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin mite \
    && mkdir /mite && chown mite:mite /mite
ENV PATH=/opt/mite/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER mite
WORKDIR /mite
# controller 14301, messages 14302, duplicator outputs 14303/14304, stats out 14305, exporter 9301
EXPOSE 14301 14302 14303 14304 14305 9301
ENTRYPOINT ["mite"]
CMD ["--help"]
