#!/usr/bin/env python3
"""Writes a redundant switch mesh lab (YAML) to stdout: 2 core switches and N access switches,
each access switch dual-homed to both cores, all running RSTP; V VLANs on every trunk; two
routers on a stick (one trunk each, to one core, a subinterface per VLAN); a host on every
third access switch. Used to check that `vnet lab graph` stays readable at that size.

    tests/lab/gen_mesh_lab.py [--access N] [--vlans V] > mesh.yaml
"""
import argparse

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--access", type=int, default=25)
ap.add_argument("--vlans", type=int, default=25)
a = ap.parse_args()
vlans = list(range(10, 10 + a.vlans))
vl = "[" + ", ".join(map(str, vlans)) + "]"
out = ["name: mesh", "switches:"]
for c in (1, 2):
    out += [f"  - name: core{c}", f"    vlans: {vl}", "    stp: rstp",
            f"    stp_priority: {4096 * c}"]
for i in range(1, a.access + 1):
    out += [f"  - name: acc{i}", f"    vlans: {vl}", "    stp: rstp"]
out.append("routers:")
for r in (1, 2):
    out += [f"  - name: r{r}", "    interfaces:", "      - name: eth0"]
    for v in vlans:
        out.append(f"      - {{name: eth0.{v}, ipv4: 10.{v}.0.{r + 1}/24}}")
out.append("hosts:")
hosts = []
for i in range(1, a.access + 1, 3):
    v = vlans[(i - 1) % len(vlans)]
    hosts.append((f"h{i}", f"acc{i}", v))
    out += [f"  - name: h{i}", "    interfaces:", f"      - {{name: eth0, ipv4: 10.{v}.0.{100 + i}/24}}"]
out.append("links:")
out += ["  - endpoints: [core1, core2]", f"    trunk: {vl}"]
for i in range(1, a.access + 1):
    for c in (1, 2):
        out += [f"  - endpoints: [acc{i}, core{c}]", f"    trunk: {vl}"]
for r in (1, 2):
    out += [f"  - endpoints: [r{r}:eth0, core{r}]", f"    trunk: {vl}"]
for h, sw, v in hosts:
    out += [f"  - endpoints: [{h}:eth0, {sw}]", f"    vlan: {v}"]
print("\n".join(out))
