# bench/lib.sh: what the HTTP benchmarks share, sourced by bench/*/run.
# A real `ringtrail serve` on a fresh database, nginx serving static bytes
# as the reference measured in the same run, wrk against both, and the
# figures read back from wrk's report.  bench/sip uses the server half
# (bench_ringtrail, api, $tmp and its clean-up) with SIPp instead.
#
# The sourcing script sets bin (the ringtrail binary) first; afterwards it
# has $tmp (removed on exit), and rt_url, key and rt_pid once
# bench_ringtrail has run, ngx_port once bench_nginx has.

duration=${BENCH_DURATION:-5s}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
goal_ratio=0.5
goal_p99_ms=5

die() { echo "bench: $*" >&2; exit 1; }
for tool in wrk nginx curl; do
	command -v "$tool" >/dev/null 2>&1 ||
		PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null 2>&1 ||
		die "'$tool' is missing: run scripts/install-deps test"
done
PATH=$PATH:/usr/sbin:/sbin
[ -x "$bin" ] || die "'$bin' is not an executable: run make build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rt-bench.XXXXXX")
# nginx's workers run as another user when started as root: they need to read
# www/, while rt/ (the database and the printed key) stays private.
chmod 755 "$tmp"
mkdir -m 700 "$tmp/rt"
mkdir -p "$tmp/www"
rt_pid='' ngx_pid=''
cleanup() {
	[ -n "$rt_pid" ] && kill "$rt_pid" 2>/dev/null && wait "$rt_pid" 2>/dev/null
	[ -n "$ngx_pid" ] && kill -QUIT "$ngx_pid" 2>/dev/null && wait "$ngx_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bench_ringtrail [serve args]: starts the server; sets rt_url (its base URL,
# with a trailing slash), key (the first API key) and rt_pid.
bench_ringtrail() {
	"$bin" serve --db "$tmp/rt/rt.db" --listen 127.0.0.1:0 --log-level warn \
		"$@" >"$tmp/rt/out" 2>"$tmp/rt/err" &
	rt_pid=$!
	for _ in $(seq 100); do
		grep -q '^listening on ' "$tmp/rt/out" 2>/dev/null && break
		kill -0 "$rt_pid" 2>/dev/null || { cat "$tmp/rt/err" >&2; die "ringtrail serve exited"; }
		sleep 0.1
	done
	rt_url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$tmp/rt/out")
	key=$(sed -n 's/^api key: //p' "$tmp/rt/out")
	[ -n "$rt_url" ] || die "ringtrail did not say where it listens"
	[ -n "$key" ] || die "ringtrail printed no 'api key:' line"
	rt_url=${rt_url%/}/
}

# api METHOD PATH [JSON]: the API with the first key; prints the body, and
# dies on an answer other than 2xx.
api() {
	local out code
	out=$(curl -s -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $key" \
		-H 'Content-Type: application/json' ${3:+--data "$3"} "${rt_url}${2#/}")
	code=${out##*$'\n'}
	[ "${code:0:1}" = 2 ] || die "$1 $2 answered $code: ${out%$'\n'*}"
	printf '%s\n' "${out%$'\n'*}"
}

# bench_nginx PROBE_PATH [extra server-block directives]: nginx with
# worker_processes auto serving $tmp/www on a free port (ngx_port), checked
# to answer 200 on PROBE_PATH.
bench_nginx() {
	local probe=$1 extra=${2:-} p=$tmp/nginx code=000
	mkdir -p "$p/logs" "$p/tmp"
	for _ in 1 2 3 4 5; do
		ngx_port=$((20000 + RANDOM % 40000))
		cat >"$p/nginx.conf" <<-CONF
		worker_processes auto;
		daemon off;
		pid $p/nginx.pid;
		error_log $p/logs/error.log warn;
		events { worker_connections 4096; }
		http {
			access_log off;
			client_body_temp_path $p/tmp/body;
			proxy_temp_path $p/tmp/proxy;
			fastcgi_temp_path $p/tmp/fastcgi;
			uwsgi_temp_path $p/tmp/uwsgi;
			scgi_temp_path $p/tmp/scgi;
			types { }
			default_type application/json;
			keepalive_requests 1000000;
			server {
				listen 127.0.0.1:$ngx_port;
				root $tmp/www;
				$extra
			}
		}
		CONF
		nginx -p "$p" -c "$p/nginx.conf" -e "$p/logs/error.log" \
			>"$p/logs/stdout" 2>&1 &
		ngx_pid=$!
		for _ in $(seq 50); do
			code=$(curl -s -o /dev/null -w '%{http_code}' \
				"http://127.0.0.1:$ngx_port$probe" || true)
			[ "$code" != 000 ] && break 2
			kill -0 "$ngx_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -QUIT "$ngx_pid" 2>/dev/null || true
		wait "$ngx_pid" 2>/dev/null || true
		ngx_pid=
	done
	[ -n "$ngx_pid" ] || { cat "$p/logs/error.log" >&2; die "nginx did not start"; }
	[ "$code" = 200 ] || { tail -n 5 "$p/logs/error.log" >&2; die "nginx answered $code"; }
}

# run_wrk NAME URL [wrk args]: a short warm-up, then one measured round
# (the rounds of a name are NAME.1, NAME.2, ...).  BENCH_WARMUP=0 leaves the
# warm-up out.
run_wrk() {
	local name=$1 url=$2 n f
	shift 2
	[ "${BENCH_WARMUP:-1}" = 0 ] || [ -e "$tmp/$name.1.wrk" ] ||
		wrk -t"$threads" -c"$conns" -d2s "$@" "$url" >/dev/null
	n=0
	for f in "$tmp/$name".*.wrk; do [ -e "$f" ] && n=$((n + 1)); done
	wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@" "$url" \
		>"$tmp/$name.$((n + 1)).wrk"
}
# The median over a name's rounds of an awk program's figure.
median() {
	local name=$1 prog=$2
	for f in "$tmp/$name".*.wrk; do awk "$prog" "$f"; done |
		sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
# Requests/s, p99 in ms (medians of the rounds), and the requests and
# non-2xx answers of all rounds together.
rps() { median "$1" '/^Requests\/sec:/ { print $2 }'; }
p99() {
	median "$1" '$1 == "99%" {
		v = $2 + 0
		if ($2 ~ /us$/) v /= 1000
		else if ($2 ~ /[0-9]s$/ && $2 !~ /ms$/) v *= 1000
		printf "%.3f\n", v
	}'
}
requests() { cat "$tmp/$1".*.wrk | awk '/requests in/ { n += $1 } END { print n + 0 }'; }
non2xx() { cat "$tmp/$1".*.wrk | awk '/Non-2xx/ { n += $NF } END { print n + 0 }'; }

# bench_rounds RT_URL NGX_URL [wrk args]: $rounds rounds of each, taken in
# turn, so that what the machine does meanwhile weighs on both alike.
bench_rounds() {
	local rt=$1 ngx=$2 i
	shift 2
	for i in $(seq "$rounds"); do
		run_wrk ringtrail "$rt" "$@"
		run_wrk nginx "$ngx" "$@"
	done
}

# report: the table of both runs, the ratio and the goals.
report() {
	awk -v rr="$(rps ringtrail)" -v nr="$(rps nginx)" \
	    -v rp="$(p99 ringtrail)" -v np="$(p99 nginx)" \
	    -v rb="$(non2xx ringtrail)" -v nb="$(non2xx nginx)" \
	    -v gr="$goal_ratio" -v gp="$goal_p99_ms" -v rounds="$rounds" \
	    -v duration="$duration" '
	BEGIN {
		ratio = nr > 0 ? rr / nr : 0
		printf "\n  medians of %d rounds of %s each, taken in turn\n", rounds, duration
		printf "\n  %-10s %12s %10s %8s\n", "", "requests/s", "p99 ms", "non-2xx"
		printf "  %-10s %12.0f %10.3f %8d\n", "ringtrail", rr, rp, rb
		printf "  %-10s %12.0f %10.3f %8d\n", "nginx", nr, np, nb
		printf "\n  ratio ringtrail/nginx: %.2f\n", ratio
		printf "  goal ratio >= %.2f: %s\n", gr, (ratio >= gr ? "met" : "MISSED")
		printf "  goal ringtrail p99 < %g ms: %s\n", gp, (rp < gp ? "met" : "MISSED")
		if (rb > 0)
			printf "  warning: ringtrail answered %d requests with non-2xx\n", rb
	}'
}
