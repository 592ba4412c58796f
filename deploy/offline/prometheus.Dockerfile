# Prometheus for a machine without a registry: a Prometheus binary on the offline base image,
# started like the official prom/prometheus image (entrypoint /bin/prometheus, data in /prometheus,
# user nobody), so docker-compose.yml runs either one with the same command.
ARG BASE_IMAGE=mite-offline-base:bookworm
FROM ${BASE_IMAGE}
COPY prometheus /bin/prometheus
RUN mkdir -p /prometheus /etc/prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
