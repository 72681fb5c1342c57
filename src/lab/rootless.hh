#pragma once
// Rootless labs (docs/rootless.md): `vnet lab up|down|status|exec|test|console` run by an
// ordinary user put the whole lab inside a user namespace the user owns.
//
// The holder. `up` forks a process that unshares a user namespace, a mount namespace and a
// network namespace, and then does nothing but keep them alive while the lab is up:
//  - user namespace: the user's uid and gid are root inside. With subordinate ids for the user
//    in /etc/subuid and /etc/subgid (and newuidmap/newgidmap, Debian's uidmap) the map is
//    `0 → uid` plus `1..COUNT → the subordinate range`; otherwise a single-id map `0 → uid`
//    (setgroups denied), which the kernel lets any user write. VNET_USERNS_MAP=single forces
//    the latter.
//  - mount namespace: /run/netns is a private tmpfs, so the lab's named network namespaces
//    (lab/netns.hh, `ip netns`) are bind mounts nobody outside sees. A machine without
//    /run/netns (and no right to make one) gets a tmpfs over /run with each entry of the real
//    /run bound back.
//  - network namespace: the lab's "host" side, owned by the user namespace, so creating and
//    entering the nodes' namespaces and returning works (setns back into the real host
//    namespace would need root).
// Its pid and start time are in `<state root>/<lab>.holder` (JSON); every later subcommand on
// the lab joins it (setns on /proc/PID/ns/{user,mnt,net}) and then works as root does.
//
// State root: VNET_STATE_DIR if set, else $XDG_RUNTIME_DIR/vnet/labs, else /tmp/vnet-UID/labs
// (created 0700; refused when someone else owns it or others may write to it).
//
// Outside: what must reach the user's real network (an uplink's passt, lab/kind_uplink.cc)
// spawns from a launcher process `up` forks before it joins the holder: it stays in the user's
// own namespaces and starts, on request over a socket pair, what lab/netns.hh spawn() is asked
// to run in the empty namespace (set_home_spawner).
//
// Threading: join() and create_and_join() call setns(CLONE_NEWUSER), which the kernel allows
// only a single-threaded process: call them before anything starts a thread.

#include <string>
#include <vector>

#include "base/result.hh"
#include "lab/topology.hh"

namespace vnet::lab::rootless {

// This process runs without root: labs it runs are rootless.
bool unprivileged();

// Unprivileged only: sets VNET_STATE_DIR to the user's state root (above) unless it is set.
Status prepare_state_root();

// What in the topology cannot run rootless, each at its file:line with the reason.
std::vector<Diagnostic> refusals(const Topology& t);

// `up`: a new holder for `lab`, joined, with the launcher as the home spawner. EEXIST when a
// holder of that lab is alive.
Status create_and_join(const std::string& lab);
// A lab that is up: joins its holder. ENOENT when it has none (not up, or not rootless).
Status join(const std::string& lab);
// True when `lab` has a live holder.
bool has_holder(const std::string& lab);
// After `down`: stops the holder (SIGKILL, waits until gone) and removes its file.
Status release(const std::string& lab);

}  // namespace vnet::lab::rootless
