#!/usr/bin/env bash
# Makes the images a machine without a registry needs: a minimal Debian with Python 3 (debootstrap,
# from the Debian mirror apt already uses) as the mite image's base, and Prometheus on that base
# (the host's Debian `prometheus` binary). The root file system is cached as a tarball, so a rerun
# only re-imports it when the Docker image is missing.
#
#   deploy/offline/base-image.sh [BASE_TAG] [PROMETHEUS_TAG]
set -euo pipefail
base_tag=${1:-mite-offline-base:bookworm}
prom_tag=${2:-mite-offline-prometheus:latest}
cache=${MITE_DEPLOY_CACHE:-$HOME/.cache/mite-deploy}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tarball=$cache/rootfs-$suite-python3.tar
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"

if ! docker image inspect "$base_tag" >/dev/null 2>&1; then
	if [[ ! -s $tarball ]]; then
		root=$(mktemp -d "$cache/rootfs.XXXXXX")
		trap 'rm -rf "$root"' EXIT
		echo "debootstrap $suite (minbase + python3) into $root" >&2
		debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
			"$suite" "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
			{ tail -20 "$cache/debootstrap.log" >&2; exit 1; }
		# What an image never needs: downloaded packages, apt lists, documentation.
		rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
			"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
		tar -C "$root" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
		rm -rf "$root"
		trap - EXIT
	fi
	docker import --change 'CMD ["/bin/bash"]' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		"$tarball" "$base_tag" >/dev/null
	echo "imported $base_tag" >&2
fi

if ! docker image inspect "$prom_tag" >/dev/null 2>&1; then
	prom=$(command -v prometheus || true)
	[[ -n $prom ]] || { echo "prometheus is not installed (apt-get install prometheus)" >&2; exit 1; }
	ctx=$(mktemp -d)
	trap 'rm -rf "$ctx"' EXIT
	cp "$prom" "$ctx/prometheus"
	docker build -q -f "$here/prometheus.Dockerfile" --build-arg BASE_IMAGE="$base_tag" \
		-t "$prom_tag" "$ctx" >/dev/null
	echo "built $prom_tag" >&2
fi
