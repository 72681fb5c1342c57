#!/usr/bin/env bash
# The lab step `exec` with its output (issue #12, item 6), through one `vnet lab test` run:
#   (a) stdout and stderr of a command go into the report (under the step) and into JUnit
#       (<system-out>, <system-err>), passing or failing;
#   (b) `expect: [output contains …, output matches …, stderr contains …, exit N]` pass when they
#       hold and fail, naming the one that did not, when they do not;
#   (c) `within` kills a command that runs too long (its whole process group) and fails the step
#       quickly; a command that leaves a background process holding its output does not hold
#       the step;
#   (d) long output is trimmed in the report to its last lines.
# ctest: parallel
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
L=${T}x
cat >"$WORK/exec.yaml" <<EOF
name: $L
switches:
  - name: sw1
hosts:
  - name: h1
    interfaces: [{name: eth0, ipv4: 10.76.0.1/24}]
links:
  - endpoints: [h1, sw1]
scenarios:
  - name: output
    steps:
      - exec: h1 echo hello from \$(hostname); echo warning-text >&2
        expect:
          - output contains hello from h1
          - output matches "^hello from [a-z0-9]+\$"
          - stderr contains warning-text
      - exec: h1 echo abc; exit 3
        expect: [exit 3, output contains abc]
      - exec: h1 echo abc
        expect: output contains xyz
      - exec: h1 seq 1 500
        expect: output matches "^500$"
  - name: time
    steps:
      - exec: h1 sleep 30
        within: 1s
      - exec: h1 (sleep 20 >/dev/null 2>&1 &) ; sleep 20 & echo started
        within: 10s
        expect: output contains started
EOF
set +e
start=$SECONDS
"$VNET" lab test "$WORK/exec.yaml" --junit "$WORK/exec.xml" >"$WORK/test.log" 2>&1
rc=$?
took=$((SECONDS - start))
set -e
[ $rc != 0 ] || fail "the lab test passed although two steps cannot: $(cat "$WORK/test.log")"
grep -q "4 passed, 2 failed" "$WORK/test.log" || fail "expected 4 passed, 2 failed: $(grep -E 'PASS|FAIL|steps' "$WORK/test.log")"

# step N of the report: its line (and, for output checks, the lines below it)
python3 - "$WORK/exec.xml" >"$WORK/cases" <<'PY'
import sys, json, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).iter("testcase"):
    f = tc.find("failure")
    o = tc.find("system-out")
    e = tc.find("system-err")
    print(json.dumps({"name": tc.get("name"), "failure": None if f is None else f.get("message"),
                      "out": "" if o is None else o.text, "err": "" if e is None else e.text}))
PY
case_() { sed -n "${1}p" "$WORK/cases" | jq -r ".$2 // \"\""; }

# (a) + (b)
[ -z "$(case_ 1 failure)" ] || fail "step 1 failed: $(case_ 1 failure)"
case_ 1 out | grep -qx "hello from h1" || fail "step 1's stdout is not in JUnit: $(sed -n 1p "$WORK/cases")"
case_ 1 err | grep -qx "warning-text" || fail "step 1's stderr is not in JUnit <system-err>: $(sed -n 1p "$WORK/cases")"
grep -q "| hello from h1" "$WORK/test.log" || fail "step 1's stdout is not in the report: $(cat "$WORK/test.log")"
grep -q "| warning-text" "$WORK/test.log" || fail "step 1's stderr is not in the report"
pass "stdout and stderr in the report and in JUnit; contains, matches and stderr expectations hold"
[ -z "$(case_ 2 failure)" ] || fail "step 2 (exit 3 expected) failed: $(case_ 2 failure)"
pass "an expected exit status other than 0 passes"
[[ $(case_ 3 failure) == *'output contains "xyz": NO'* ]] || fail "step 3 should fail naming its expectation: $(sed -n 3p "$WORK/cases")"
case_ 3 out | grep -qx abc || fail "a failing step's stdout is not in JUnit: $(sed -n 3p "$WORK/cases")"
pass "a failing output expectation fails its step and names itself; the output is kept"

# (d)
[ -z "$(case_ 4 failure)" ] || fail "step 4 (matches ^500\$ on 500 lines) failed: $(case_ 4 failure)"
case_ 4 out | grep -q "earlier bytes" || fail "500 lines were not trimmed: $(case_ 4 out | head -3)"
[ "$(case_ 4 out | grep -cx '[0-9]*')" = 20 ] || fail "the trimmed output does not keep the last 20 lines"
case_ 4 out | grep -qx 500 || fail "the last line is not kept"
pass "500 lines of output: matched whole, trimmed to the last 20 lines in the report"

# (c)
[[ $(case_ 5 failure) == *"killed after 1000 ms"* ]] || fail "sleep 30 within 1s: $(sed -n 5p "$WORK/cases")"
[ -z "$(case_ 6 failure)" ] || fail "a command leaving background processes: $(case_ 6 failure)"
[ "$took" -lt 25 ] || fail "the run took $took s: within, or a background process, held a step"
pass "within kills a long command; background processes do not hold the step (run $took s)"
"$VNET" lab status "$WORK/exec.yaml" >/dev/null 2>&1 && fail "the lab is still up after test"
echo "6 passed, 0 failed"
