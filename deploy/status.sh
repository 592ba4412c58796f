#!/usr/bin/env bash
# `make status`: one line per container (service, state, the last line it logged), then whether
# Prometheus can scrape the exporter. A component in trouble says why on its own line: a scenario
# that does not import, a runner waiting for its controller, an exporter Prometheus cannot reach.
set -uo pipefail
compose=${COMPOSE:-docker-compose}
ids=$($compose ps -q 2>/dev/null)
if [[ -z $ids ]]; then
	echo "no containers: the deployment is not up (make up)"
	exit 0
fi
for id in $ids; do
	docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}#{{index .Config.Labels "com.docker.compose.container-number"}} {{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{.Id}}' "$id"
done | sort | while read -r name state code restarts id; do
	last=$(docker logs --tail 1 "$id" 2>&1 | tail -n 1 | cut -c1-200)
	what=$state
	[[ $state == exited ]] && what="exited($code)"
	[[ $restarts -gt 0 ]] && what="$what, restarted ${restarts}x"
	printf '%-22s %-26s %s\n' "$name" "$what" "$last"
done
port=$($compose port prometheus 9090 2>/dev/null | tail -n 1)
if [[ -n $port ]]; then
	python3 - "$port" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://{sys.argv[1]}/api/v1/targets", timeout=5) as r:
        targets = json.load(r)["data"]["activeTargets"]
except Exception as e:
    print(f"prometheus: not answering at {sys.argv[1]} ({e})")
    sys.exit(0)
for t in targets:
    err = f": {t['lastError']}" if t.get("lastError") else ""
    print(f"prometheus: scrape of {t['scrapeUrl']} is {t['health']}{err}")
PY
fi
