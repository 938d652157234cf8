#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nbmgmt integration test on loopback: a real server (TLS 1.3, SQLite,
# the policy library) and nbmgmt-client built from proto/. Enrollment with
# valid/expired/exhausted/revoked/unknown keys, the wrong CA, malformed
# and oversized frames while another client keeps working, live map
# pushes (enrollment, key rotation, policy reload), a bad policy keeping
# the old one, peer removal, a restart, and registry addresses replacing
# the file's. Prints KTAP.
#
#   build/test_nbmgmt        (built from selftests/nbmgmt/test_nbmgmt.sh)
#   NBMGMT_WRAP="valgrind -q --error-exitcode=99" build/test_nbmgmt
#   KEEP=1 build/test_nbmgmt  (keep the temporary directory and logs)

B=$(cd "$(dirname "$0")" && pwd)
NBMGMT=$B/nbmgmt
# run-host.sh's NBG_VALGRIND wraps this script; check the server too.
if [[ -n $NBG_VALGRIND && -z $NBMGMT_WRAP ]]; then
	NBMGMT_WRAP="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"
fi
CLIENT=$B/nbmgmt-client
T=$(mktemp -d /tmp/nbmgmt-test.XXXXXX)
n=0 passed=0 failed=0
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[[ -n $KEEP ]] && echo "# kept $T" || rm -rf "$T"
}
trap cleanup EXIT

ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n $1"
	[[ -n $2 ]] && sed 's/^/# /' <<<"$2" | head -20
}
# check NAME CMD...: the command must succeed
check() { local name=$1; shift; local out; if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi; }
# expect NAME PATTERN OUTPUT: OUTPUT must match the extended regex
expect() { if grep -qE -- "$2" <<<"$3"; then ok "$1"; else not_ok "$1" "wanted /$2/ in:
$3"; fi; }
expect_not() { if grep -qE -- "$2" <<<"$3"; then not_ok "$1" "did not want /$2/ in:
$3"; else ok "$1"; fi; }

start_server() { # DIR POLICY LOG [ADDR] -> sets PORT
	local addr=${4:-127.0.0.1}
	local before
	touch "$3"
	before=$(grep -c "listening on" "$3")
	$NBMGMT_WRAP "$NBMGMT" serve --dir "$1" --policy "$2" --listen "$addr:0" \
		--keepalive 2 >>"$3" 2>&1 &
	SERVER_PID=$!
	pids+=($!)
	for _ in $(seq 400); do
		if (($(grep -c "listening on" "$3") > before)); then
			PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$3" | tail -1)
			return 0
		fi
		sleep 0.05
	done
	return 1
}
C() { "$CLIENT" -s 127.0.0.1:$PORT --ca "$T/srv/ca.crt" "$@" 2>&1; }

cat >"$T/policy.yaml" <<'YAML'
version: 1
groups:
  - name: servers
  - name: clients
  - name: admins
peers:
  - name: web
    groups: [servers]
  - name: laptop
    groups: [clients]
  - name: ops
    groups: [admins]
rules:
  - name: clients-to-web
    action: allow
    sources: [group:clients]
    destinations: [group:servers]
    protocol: tcp
    ports: [443]
  - name: admins-ssh
    action: allow
    sources: [group:admins]
    destinations: [group:servers]
    protocol: tcp
    ports: [22]
YAML
cp "$T/policy.yaml" "$T/good.yaml"

echo "KTAP version 1"
echo "1..71"

out=$("$NBMGMT" init --dir "$T/srv" --hostname mgmt.test 2>&1)
ADMIN=$(tail -1 <<<"$out")
if [[ $ADMIN == nbk_* && -s $T/srv/ca.crt && -s $T/srv/nbmgmt.db ]] &&
   [[ $(stat -c %a "$T/srv/ca.key") == 600 ]]; then
	ok "init creates CA, database and an admin key"
else
	not_ok "init creates CA, database and an admin key" "$out"
fi
out=$("$NBMGMT" init --dir "$T/srv" 2>&1)
expect "init refuses an initialised directory" "already initialised" "$out"

LOG=$T/server.log
if start_server "$T/srv" "$T/policy.yaml" "$LOG"; then ok "serve: listening"; else
	not_ok "serve: listening" "$(cat "$LOG")"; echo "$passed passed, $failed failed"; exit 1; fi

# --- setup keys -----------------------------------------------------------
ONE=$("$NBMGMT" setup-key create --dir "$T/srv")
out=$(C enroll --key "$ONE" --hostname web --out "$T/web")
expect "enroll with a one-off key" "^enrolled web - 100\.64\.0\.1/16 fd00:6e62::1/64" "$out"
out=$(C enroll --key "$ONE" --hostname web2 --out "$T/web2")
expect "one-off key used twice: KEY_EXHAUSTED" "^error KEY_EXHAUSTED" "$out"
TWO=$("$NBMGMT" setup-key create --dir "$T/srv" --uses 2)
a=$(C enroll --key "$TWO" --hostname laptop --out "$T/laptop")
b=$(C enroll --key "$TWO" --hostname stranger --out "$T/stranger")
c=$(C enroll --key "$TWO" --hostname third --out "$T/third")
expect "key with --uses 2 enrolls twice" "^enrolled stranger" "$a
$b"
expect "key with --uses 2: third use KEY_EXHAUSTED" "^error KEY_EXHAUSTED" "$c"
EXP=$("$NBMGMT" setup-key create --dir "$T/srv" --reusable --expires 1)
sleep 1.2
out=$(C enroll --key "$EXP" --hostname late --out "$T/late")
expect "expired key: KEY_EXPIRED" "^error KEY_EXPIRED" "$out"
REV=$("$NBMGMT" setup-key create --dir "$T/srv" --reusable)
"$NBMGMT" setup-key revoke --dir "$T/srv" "${REV:0:12}" >/dev/null
out=$(C enroll --key "$REV" --hostname rev --out "$T/rev")
expect "revoked key (by id): KEY_REVOKED" "^error KEY_REVOKED" "$out"
out=$(C enroll --key nbk_00000000000000000000000000000000000000 --hostname x --out "$T/x")
expect "unknown key: KEY_INVALID" "^error KEY_INVALID" "$out"
out=$(C enroll --key "${ADMIN:0:12}" --hostname x --out "$T/x")
expect "a key's short id does not enroll" "^error KEY_INVALID" "$out"
out=$("$NBMGMT" setup-key list --dir "$T/srv")
expect "setup-key list shows exhausted, expired and revoked keys" \
	"exhausted expired revoked" "$(grep -oE 'exhausted|expired|revoked' <<<"$out" | sort -u | xargs)"
out=$(C enroll --key "$ADMIN" --hostname web --out "$T/webdup")
expect "duplicate hostname gets a suffix" "^enrolled web-2 " "$out"
GRP=$("$NBMGMT" setup-key create --dir "$T/srv" --reusable --group clients)
ONE=$("$NBMGMT" setup-key create --dir "$T/srv")
out=$(C raw badcsr --key "$ONE")
expect "unusable CSR: BAD_CSR" "^error BAD_CSR" "$out"
out=$(C enroll --key "$ONE" --hostname phone --out "$T/phone")
expect "a failed enrollment does not use up a one-off key" "^enrolled phone " "$out"

# --- maps ----------------------------------------------------------------
out=$(C login --state "$T/web" --endpoint 192.0.2.1:51820 --maps 1)
expect "web's map lists laptop" "^peer laptop " "$out"
expect_not "web's map does not list unconnected nodes" "^peer (stranger|web-2) " "$out"
expect "web's ruleset: laptop's group may reach 443" "^ruleset rule [0-9]+ allow in proto tcp src group [0-9]+ .*port 443" "$out"
expect "the ruleset names the policy rule in a comment" "^comment .*clients-to-web" "$out"
out=$(C login --state "$T/laptop" --maps 1)
expect "laptop sees web with its reported endpoint" "^peer web .* ep=192\.0\.2\.1:51820" "$out"
out=$(C login --state "$T/stranger" --maps 1)
expect "a node the policy connects to nobody gets no peers" "^netmap [0-9]+ peers=0" "$out"

# web stays connected; enrolling a node with the clients group pushes a map
C login --state "$T/web" --stay 10 --maps 2 --early >"$T/web.live" &
pids+=($!); WEBPID=$!
C login --state "$T/stranger" --stay 3 >"$T/stranger.live" &
pids+=($!); STRPID=$!
sleep 1
out=$(C enroll --key "$GRP" --hostname tablet --out "$T/tablet")
expect "enroll with a key that joins group clients" "^enrolled tablet " "$out"
for _ in $(seq 20); do grep -q "^peer tablet " "$T/web.live" && break; sleep 0.1; done
expect "pushed to web within 2 s: the new clients member" "^peer tablet " "$(cat "$T/web.live")"
wait $STRPID
expect "a node the change does not affect gets no new map" "^stayed .* 1 maps$" "$(cat "$T/stranger.live")"

# --- misbehaving clients while laptop keeps working ------------------------
C login --state "$T/laptop" --stay 5 --endpoint-update 203.0.113.9:51820 >"$T/laptop.live" &
pids+=($!); LAPPID=$!
exec 7<>/dev/tcp/127.0.0.1/$PORT	# a client that never says anything
sleep 0.5
for what in garbage oversize badversion nohello login-nocert; do
	out=$(C raw $what)
	case $what in
	badversion) want="error VERSION" ;;
	login-nocert) want="error CERT_REQUIRED" ;;
	*) want="error PROTOCOL" ;;
	esac
	if grep -q "^$want" <<<"$out" && grep -q "^closed$" <<<"$out"; then
		ok "raw $what: $want, then closed"
	else
		not_ok "raw $what: $want, then closed" "$out"
	fi
done
out=$(C login --state "$T/tablet" --maps 1)
expect "a silent connection does not block others" "^netmap " "$out"
out=$("$CLIENT" -s 127.0.0.1:$PORT --ca "$T/srv/ca.crt" login --state "$T/tablet" --rotate --maps 2 2>&1)
expect "key rotation: node gets a new map" "^rotated " "$out"
NEWKEY=$(sed -n 's/^rotated //p' <<<"$out")
wait $WEBPID
wait $LAPPID; rc=$?
exec 7>&-
if [[ $rc == 0 ]]; then ok "laptop kept getting PONGs throughout"; else
	not_ok "laptop kept getting PONGs throughout" "$(cat "$T/laptop.live")"; fi
out=$(C login --state "$T/web" --maps 1)
expect "ENDPOINT from laptop is relayed to web" "^peer laptop .* ep=203\.0\.113\.9:51820" "$out"
if grep -qF "peer tablet $NEWKEY " <<<"$out"; then ok "web's map carries tablet's rotated key"; else
	not_ok "web's map carries tablet's rotated key" "$NEWKEY $out"; fi
# A node the policy names keeps its groups there and gains its key's.
out=$(C enroll --key "$GRP" --hostname ops --out "$T/ops")
expect "enroll ops (in the policy: admins) with a key that joins clients" "^enrolled ops " "$out"
out=$(C login --state "$T/web" --maps 1)
expect "web lets ops in through both groups (admins from the file, clients from the key)" \
	"^ruleset identity [0-9]+ ops prefix 100\.64\.[0-9.]+/32 prefix [0-9a-f:]+/128( group [0-9]+)* group 2 group 3$" "$out"
expect "... and port 443, which only clients may reach, is open to ops" \
	"^ruleset rule [0-9]+ allow in proto tcp src group 2 .*port 443" "$out"
expect "server logged why it closed the bad clients" "closing: PROTOCOL: frame: .*limit" "$(cat "$LOG")"

# --- wrong CA --------------------------------------------------------------
"$NBMGMT" init --dir "$T/other" >/dev/null 2>&1
out=$("$CLIENT" -s 127.0.0.1:$PORT --ca "$T/other/ca.crt" enroll --key "$ADMIN" --hostname evil --out "$T/evil" 2>&1)
expect "client trusting another CA refuses the server" "certificate verification failed|certificate verify failed" "$out"
OTHERLOG=$T/other.log
SAVED=$PORT SAVED_PID=$SERVER_PID
start_server "$T/other" "$T/policy.yaml" "$OTHERLOG"
"$CLIENT" -s 127.0.0.1:$PORT --ca "$T/other/ca.crt" enroll --key "$("$NBMGMT" setup-key create --dir "$T/other")" --hostname web --out "$T/foreign" >/dev/null 2>&1
PORT=$SAVED SERVER_PID=$SAVED_PID
cp "$T/srv/ca.crt" "$T/foreign/ca.crt"
out=$(C login --state "$T/foreign" --maps 1)
expect "server refuses a client certificate from another CA" "failed: " "$out"
expect_not "... and sends it no map" "^netmap" "$out"

# --- policy reload -----------------------------------------------------------
C login --state "$T/web" --stay 10 --maps 2 --early >"$T/web.reload" &
pids+=($!); WEBPID=$!
sleep 0.5
printf 'version: 1\nrules:\n  - name: x\n    action: maybe\n' >"$T/policy.yaml"
out=$("$NBMGMT" policy reload --dir "$T/srv" 2>&1); rc=$?
if [[ $rc != 0 ]] && grep -qE "policy\.yaml:[0-9]+:[0-9]+: error" <<<"$out"; then
	ok "bad policy: reload fails with file:line:col"
else
	not_ok "bad policy: reload fails with file:line:col" "$out"
fi
kill -HUP $SERVER_PID
sleep 0.3
if [[ $(grep -A20 SIGHUP "$LOG" | grep -c "rejected; keeping the previous policy") == 1 ]]; then
	ok "SIGHUP with a bad policy: rejected and logged"
else
	not_ok "SIGHUP with a bad policy: rejected and logged" "$(tail -5 "$LOG")"
fi
# tablet's login changes nothing in web's map, so web's next map is the reload's
out=$(C login --state "$T/tablet" --maps 1)
expect "the old policy stays (after reload and SIGHUP)" "^peer web " "$out"
sed 's/443/8443/' "$T/good.yaml" >"$T/policy.yaml"
out=$("$NBMGMT" policy reload --dir "$T/srv" 2>&1)
expect "good policy: reload ok" "^ok" "$out"
sleep 1
wait $WEBPID
expect "reload pushed web's new ruleset" "port 8443" "$(cat "$T/web.reload")"

# --- removal, listing, restart ---------------------------------------------------
out=$("$NBMGMT" peers list --dir "$T/srv")
expect "peers list shows nodes with addresses" "^stranger +100\.64\.0\.3 +fd00:6e62::3" "$out"
out=$("$NBMGMT" status --dir "$T/srv" 2>&1)
expect "status of the running server" "^ok: [0-9]+ nodes, [0-9]+ connected, [0-9]+ connections, serial [0-9]+" "$out"
out=$("$NBMGMT" peer remove stranger --dir "$T/srv" 2>&1)
expect "peer remove" "removed stranger" "$out"
out=$(C login --state "$T/stranger" --maps 1)
expect "removed node cannot log in: NOT_ENROLLED" "^error NOT_ENROLLED" "$out"
out=$(C enroll --key "$ADMIN" --hostname newcomer --out "$T/newcomer")
expect "a removed node's address is not handed out again at once" \
	"^enrolled newcomer - 100\.64\.0\.([4-9]|[1-9][0-9])/16" "$out"
last=$(grep -o 'map [0-9]* ->' "$LOG" | tail -1 | grep -o '[0-9]*')
kill $SERVER_PID; wait $SERVER_PID 2>/dev/null
# 127.0.0.2 is local too, but not in the server certificate's names.
start_server "$T/srv" "$T/policy.yaml" "$LOG" 127.0.0.2
out=$("$CLIENT" -s 127.0.0.2:$PORT --ca "$T/srv/ca.crt" login --state "$T/web" --maps 1 2>&1)
expect "client refuses a server whose certificate does not name the address" \
	"failed: .*(mismatch|verif)" "$out"
out=$("$CLIENT" -s 127.0.0.2:$PORT --verify-name localhost --ca "$T/srv/ca.crt" login --state "$T/web" --maps 1 2>&1)
expect "dialling an address, verifying a DNS name in the certificate" "^netmap " "$out"
out=$("$CLIENT" -s 127.0.0.2:$PORT --verify-name mgmt.wrong --ca "$T/srv/ca.crt" login --state "$T/web" --maps 1 2>&1)
expect "... and refusing a name the certificate lacks" "failed: .*(mismatch|verif)" "$out"
kill $SERVER_PID; wait $SERVER_PID 2>/dev/null
start_server "$T/srv" "$T/policy.yaml" "$LOG"
out=$(C login --state "$T/web" --maps 1)
s=$(sed -n 's/^netmap \([0-9]*\).*/\1/p' <<<"$out")
if [[ -n $s && $s -gt $last ]]; then ok "after a restart the serial keeps growing ($last -> $s)"; else
	not_ok "after a restart the serial keeps growing" "last=$last $out"; fi
# Exit 0 on SIGTERM; under NBMGMT_WRAP=valgrind... also no memory errors.
kill $SERVER_PID; wait $SERVER_PID; rc=$?
if [[ $rc == 0 ]] && ! grep -q '^==[0-9]*==' "$LOG"; then
	ok "server shuts down cleanly on SIGTERM${NBMGMT_WRAP:+ (valgrind clean)}"
else
	not_ok "server shuts down cleanly on SIGTERM" "exit $rc
$(grep '^==' "$LOG" | head -20)"
fi

# --- a range with room for two nodes ------------------------------------------
"$NBMGMT" init --dir "$T/tiny" --range4 10.9.0.0/30 --range6 fd00:9::/120 >/dev/null 2>&1
start_server "$T/tiny" "$T/policy.yaml" "$T/tiny.log"
TK=$("$NBMGMT" setup-key create --dir "$T/tiny" --reusable)
T1=$("$CLIENT" -s 127.0.0.1:$PORT --ca "$T/tiny/ca.crt" enroll --key "$TK" --hostname t1 --out "$T/t1" 2>&1)
T2=$("$CLIENT" -s 127.0.0.1:$PORT --ca "$T/tiny/ca.crt" enroll --key "$TK" --hostname t2 --out "$T/t2" 2>&1)
T3=$("$CLIENT" -s 127.0.0.1:$PORT --ca "$T/tiny/ca.crt" enroll --key "$TK" --hostname t3 --out "$T/t3" 2>&1)
expect "full range: ADDR_EXHAUSTED" "^error ADDR_EXHAUSTED" "$T1
$T2
$T3"
"$NBMGMT" peer remove t1 --dir "$T/tiny" >/dev/null
T4=$("$CLIENT" -s 127.0.0.1:$PORT --ca "$T/tiny/ca.crt" enroll --key "$TK" --hostname t4 --out "$T/t4" 2>&1)
expect "... and once full, a freed address is reused" "^enrolled t4 - 10\.9\.0\.1/30 fd00:9::1/120" "$T4"

# --- registry addresses replace the file's, all at once ---------------------------
# The file gives peers addresses inside the registry's range, so each
# enrolled node's registry address is some other peer's file address (db1
# gets 100.64.0.1, alice's in the file). Set one node at a time, such a
# node kept its file address in every ruleset. carol never enrolls: the
# registry hands her file address to alice, so she loses it.
cat >"$T/addrs.yaml" <<'YAML'
version: 1
groups: [developers, production, ops]
peers:
  - name: alice
    addresses: [100.64.0.1, "fd7a::1"]
    groups: [developers]
  - name: bob
    addresses: [100.64.0.2, "fd7a::2"]
    groups: [developers, ops]
  - name: web1
    addresses: [100.64.1.1, "fd7a::101"]
    groups: [production]
  - name: db1
    addresses: [100.64.1.2, "fd7a::102"]
    groups: [production]
  - name: carol
    addresses: [100.64.0.4]
    groups: [developers]
rules:
  - name: dev-ssh
    action: allow
    sources: [group:developers]
    destinations: [group:production]
    protocol: tcp
    ports: [22]
  - name: ops-all
    action: allow
    sources: [group:ops]
    destinations: [group:production]
    protocol: all
  - name: prod-db
    action: allow
    sources: [web1]
    destinations: [db1]
    protocol: tcp
    ports: [5432]
YAML
"$NBMGMT" init --dir "$T/addr" >/dev/null 2>&1
start_server "$T/addr" "$T/addrs.yaml" "$T/addr.log"
AK=$("$NBMGMT" setup-key create --dir "$T/addr" --reusable)
AC() { "$CLIENT" -s 127.0.0.1:$PORT --ca "$T/addr/ca.crt" "$@" 2>&1; }
out=""
for h in db1 web1 bob alice; do
	out+=$(AC enroll --key "$AK" --hostname $h --out "$T/a-$h")$'\n'
done
expect "enroll db1, web1, bob, alice into file-addressed peers" \
	"^enrolled alice - 100\.64\.0\.4/16" "$out"
check_web1() { # WHEN
	local out
	out=$(AC login --state "$T/a-web1" --maps 1)
	expect "web1's rules protect its registry address ($1)" \
		"^ruleset rule 1 allow in proto tcp src group 1 dst prefix 100\.64\.0\.2/32 dst prefix fd00:6e62::2/128 port 22$" "$out"
	expect_not "... and no file address of an enrolled peer is left ($1)" \
		"100\.64\.1\.[12]/|fd7a::" "$(grep '^ruleset' <<<"$out")"
	expect "bob and alice are known by their registry addresses ($1)" \
		"^2 $" "$(grep -cE '^ruleset identity [0-9]+ (bob prefix 100\.64\.0\.3/32 prefix fd00:6e62::3|alice prefix 100\.64\.0\.4/32 prefix fd00:6e62::4)/128 ' <<<"$out") "
	expect_not "carol, not enrolled, lost the address alice got ($1)" \
		"identity [0-9]+ carol prefix" "$out"
}
check_web1 "enrolled one by one"
expect "the server warns, at the file's line, that web1's file addresses are ignored" \
	"addrs\.yaml:[0-9]+:[0-9]+: peer 'web1': addresses 100\.64\.1\.1/32, fd7a::101/128 replaced by 100\.64\.0\.2/32, fd00:6e62::2/128" \
	"$(cat "$T/addr.log")"
expect "... and that carol lost 100.64.0.4 to alice" \
	"peer 'carol': address 100\.64\.0\.4/32 dropped; it belongs to 'alice'" "$(cat "$T/addr.log")"
out=$("$NBMGMT" policy reload --dir "$T/addr" 2>&1)
expect "policy reload with file addresses in the registry's range" "^ok" "$out"
check_web1 "after a reload: all nodes in one step"
kill $SERVER_PID; wait $SERVER_PID; rc=$?
if [[ $rc == 0 ]] && ! grep -q '^==[0-9]*==' "$T/addr.log"; then
	ok "... and that server shuts down cleanly${NBMGMT_WRAP:+ (valgrind clean)}"
else
	not_ok "... and that server shuts down cleanly" "exit $rc
$(grep '^==' "$T/addr.log" | head -20)"
fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
