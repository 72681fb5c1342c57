#!/usr/bin/env bash
# Markdown tables from a CSV written by switch-bench.sh: median [min–max] of every figure, every
# repetition in round order, and (with --ref SW) each switch's ratio to SW computed per round.
#   bench/e2e/summarize.sh [--ref SW] results.csv
set -u -o pipefail
REF=""
[ "${1:-}" = --ref ] && { REF=${2:?--ref needs a switch}; shift 2; }
CSV=${1:?usage: summarize.sh [--ref SW] results.csv}
[ -r "$CSV" ] || { echo "summarize.sh: cannot read $CSV" >&2; exit 1; }

awk -F, -v ref="$REF" '
function sort(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
}
# median [min–max] of the non-empty values k[1..n] (a copy is sorted), printf format f
function spread(k, n, f,   a, m, i, med) {
  m = 0
  for (i = 1; i <= n; i++) if (k[i] != "") a[++m] = k[i] + 0
  if (m == 0) return "–"
  sort(a, m)
  med = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  if (m == 1) return sprintf(f, med)
  return sprintf(f " [" f "–" f "]", med, a[1], a[m])
}
function median(k, n,   a, m, i) {
  m = 0
  for (i = 1; i <= n; i++) if (k[i] != "") a[++m] = k[i] + 0
  if (m == 0) return "–"
  sort(a, m)
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
# the caption and header row of a table, and the separator row made from it
function head(caption, header,   sep) {
  print caption; print ""; print header
  sep = header; gsub(/[^|]+/, "---", sep); print sep
}
function fmt(v, f) { return (v == "–") ? v : sprintf(f, v) }
# the column c of the rows of switch s and test t, into k; returns their number
function column(s, t, c, k,   i, n) {
  n = 0
  for (i = 1; i <= rows; i++) if (sw[i] == s && test[i] == t) k[++n] = col[i, c]
  return n
}
# "v1, v2, ..." in round order for switch s and test t, with scale and format; failed rounds named
function per_round(s, t, scale, f,   r, out, key) {
  out = ""
  for (r = 1; r <= maxround; r++) {
    key = s SUBSEP t SUBSEP r
    if (key in val) out = out (out == "" ? "" : ", ") sprintf(f, val[key] / scale)
    else if ((s SUBSEP r) in failed) out = out (out == "" ? "" : ", ") failed[s, r]
  }
  return out == "" ? "–" : out
}
NR == 1 { next }
{
  if (!($2 in seen)) { seen[$2] = 1; order[++nsw] = $2 }
  if ($1 + 0 > maxround) maxround = $1 + 0
  if ($3 == "setup") { failed[$2, $1] = $4; next }
  rows++; sw[rows] = $2; test[rows] = $3
  for (ci = 1; ci <= NF; ci++) col[rows, ci] = $ci
  split($10, b, "/"); col[rows, 14] = b[1]; col[rows, 15] = b[2]
  val[$2, $3, $1] = $4
  has[$3] = 1
}
END {
  if (has["pps"]) {
    head("64-byte frames (pps): received Mpps, median [min–max] over the repetitions",
      "| switch | received Mpps | offered Mpps | loss % | switch CPU % | switch ns/frame | CPU0 / CPU1 busy % | other CPU % | n |")
    for (i = 1; i <= nsw; i++) {
      s = order[i]
      n = column(s, "pps", 4, v)
      if (n == 0) { printf "| %s | %s | | | | | | | 0 |\n", s, per_round(s, "pps", 1e6, "%.3f"); continue }
      for (j = 1; j <= n; j++) v[j] = v[j] / 1e6
      column(s, "pps", 6, o); for (j = 1; j <= n; j++) o[j] = o[j] / 1e6
      column(s, "pps", 7, l); column(s, "pps", 8, cpu); column(s, "pps", 9, f)
      column(s, "pps", 14, b0); column(s, "pps", 15, b1); column(s, "pps", 11, x)
      printf "| %s | %s | %s | %s | %s | %s | %s / %s | %s | %d |\n", s, spread(v, n, "%.3f"),
        fmt(median(o, n), "%.3f"), fmt(median(l, n), "%.1f"), fmt(median(cpu, n), "%.0f"),
        spread(f, n, "%.0f"), fmt(median(b0, n), "%.0f"), fmt(median(b1, n), "%.0f"),
        fmt(median(x, n), "%.0f"), n
    }
    print ""
  }
  if (has["tcp"]) {
    head("TCP, one iperf3 stream (receiver side, first second omitted): Gbit/s, median [min–max]",
      "| switch | Gbit/s | switch CPU % | CPU0 / CPU1 busy % | other CPU % | n |")
    for (i = 1; i <= nsw; i++) {
      s = order[i]
      n = column(s, "tcp", 4, v)
      if (n == 0) { printf "| %s | %s | | | | 0 |\n", s, per_round(s, "tcp", 1, "%.2f"); continue }
      column(s, "tcp", 8, cpu); column(s, "tcp", 14, b0); column(s, "tcp", 15, b1); column(s, "tcp", 11, x)
      printf "| %s | %s | %s | %s / %s | %s | %d |\n", s, spread(v, n, "%.2f"), fmt(median(cpu, n), "%.0f"),
        fmt(median(b0, n), "%.0f"), fmt(median(b1, n), "%.0f"), fmt(median(x, n), "%.0f"), n
    }
    print ""
  }
  head("Every repetition, in round order",
    "| switch |" (has["pps"] ? " received Mpps |" : "") (has["tcp"] ? " TCP Gbit/s |" : ""))
  for (i = 1; i <= nsw; i++) {
    s = order[i]
    printf "| %s |%s%s\n", s, (has["pps"] ? " " per_round(s, "pps", 1e6, "%.3f") " |" : ""),
      (has["tcp"] ? " " per_round(s, "tcp", 1, "%.2f") " |" : "")
  }
  if (ref == "") exit
  print ""
  head("Ratio to " ref ", computed within each round (the same round of both switches)",
    "| switch |" (has["pps"] ? " received pps ratio | per round |" : "") (has["tcp"] ? " TCP ratio | per round |" : ""))
  for (i = 1; i <= nsw; i++) {
    s = order[i]
    if (s == ref) continue
    line = "| " s " |"
    for (ti = 1; ti <= 2; ti++) {
      t = (ti == 1) ? "pps" : "tcp"
      if (!has[t]) continue
      n = 0; list = ""
      for (r = 1; r <= maxround; r++) {
        if (!((s SUBSEP t SUBSEP r) in val) || !((ref SUBSEP t SUBSEP r) in val)) continue
        if (val[ref, t, r] + 0 <= 0) continue
        q[++n] = val[s, t, r] / val[ref, t, r]
        list = list (list == "" ? "" : ", ") sprintf("%.2f", q[n])
      }
      line = line " " (n ? spread(q, n, "%.2f") : "–") " | " (n ? list : "–") " |"
    }
    print line
  }
}' "$CSV"
