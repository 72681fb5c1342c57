#!/usr/bin/env python3
"""Writes a redundant switch mesh lab (YAML) to stdout: 2 core switches and N access switches,
each access switch dual-homed to both cores, all running RSTP; V VLANs on every trunk; two
routers on a stick (one trunk each, to one core, a subinterface per VLAN); a host on every
third access switch. Used to check that `vnet lab graph` stays readable at that size, and (with
options) by the spanning-tree convergence benchmark bench/e2e/stp-mesh.sh.

    tests/lab/gen_mesh_lab.py [--access N] [--vlans V] > mesh.yaml
    tests/lab/gen_mesh_lab.py --name NAME --host-every 1 --routers 0 --vlans 1 \
        --stp-times 1 6 4 > mesh.yaml    # a host on every access switch, hello 1 s, no routers
"""
import argparse

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--access", type=int, default=25)
ap.add_argument("--vlans", type=int, default=25)
ap.add_argument("--name", default="mesh", help="the lab's name (default mesh)")
ap.add_argument("--host-every", type=int, default=3, metavar="K",
                help="a host on access switches 1, 1+K, 1+2K, ... (default 3; 1 = on every one)")
ap.add_argument("--routers", type=int, choices=(0, 2), default=2,
                help="routers on a stick, one per core (default 2; 0 = none)")
ap.add_argument("--stp-times", type=int, nargs=3, metavar=("HELLO", "MAX_AGE", "FWD_DELAY"),
                help="spanning-tree times in seconds on every switch (default: not written)")
a = ap.parse_args()
if a.access < 1 or a.vlans < 1 or a.host_every < 1:
    ap.error("--access, --vlans and --host-every must be at least 1")
vlans = list(range(10, 10 + a.vlans))
vl = "[" + ", ".join(map(str, vlans)) + "]"
times = []
if a.stp_times:
    times = [f"    stp_hello_time: {a.stp_times[0]}", f"    stp_max_age: {a.stp_times[1]}",
             f"    stp_forward_delay: {a.stp_times[2]}"]
out = [f"name: {a.name}", "switches:"]
for c in (1, 2):
    out += [f"  - name: core{c}", f"    vlans: {vl}", "    stp: rstp",
            f"    stp_priority: {4096 * c}"] + times
for i in range(1, a.access + 1):
    out += [f"  - name: acc{i}", f"    vlans: {vl}", "    stp: rstp"] + times
routers = range(1, a.routers + 1)
if a.routers:
    out.append("routers:")
for r in routers:
    out += [f"  - name: r{r}", "    interfaces:", "      - name: eth0"]
    for v in vlans:
        out.append(f"      - {{name: eth0.{v}, ipv4: 10.{v}.0.{r + 1}/24}}")
out.append("hosts:")
hosts = []
for i in range(1, a.access + 1, a.host_every):
    v = vlans[(i - 1) % len(vlans)]
    hosts.append((f"h{i}", f"acc{i}", v))
    out += [f"  - name: h{i}", "    interfaces:", f"      - {{name: eth0, ipv4: 10.{v}.0.{100 + i}/24}}"]
out.append("links:")
out += ["  - endpoints: [core1, core2]", f"    trunk: {vl}"]
for i in range(1, a.access + 1):
    for c in (1, 2):
        out += [f"  - endpoints: [acc{i}, core{c}]", f"    trunk: {vl}"]
for r in routers:
    out += [f"  - endpoints: [r{r}:eth0, core{r}]", f"    trunk: {vl}"]
for h, sw, v in hosts:
    out += [f"  - endpoints: [{h}:eth0, {sw}]", f"    vlan: {v}"]
print("\n".join(out))
